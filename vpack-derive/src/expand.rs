//! Writing the impls: `vpack::Pack` (the pack function, the blank value
//! and the description of the bytes) and, unless the type has its own,
//! `Default`.
//!
//! The pack function is the one a person would write: the version first (if
//! the type has one), then each field's pack call in declaration order, the
//! calls of fields that not every version stores wrapped in a version test.
//! An enum writes its variant's tag (an unsigned varint) and then that
//! variant's fields.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Result};

use crate::attrs::{FieldAttrs, Number, TypeAttrs, VariantAttrs};

/// Local names of the generated function, invisible to the user's
/// expressions (`with = ...`, `default = ...`).
struct Names {
    buf: Ident,
    version: Ident,
    tag: Ident,
    at: Ident,
}

impl Names {
    fn new() -> Names {
        let local = |name: &str| Ident::new(name, Span::mixed_site());
        Names {
            buf: local("buf"),
            version: local("version"),
            tag: local("tag"),
            at: local("at"),
        }
    }
}

/// One field of a struct or variant, with its attributes read.
struct Field {
    ty: syn::Type,
    attrs: FieldAttrs,
    /// How the struct names it (`name` or `0`) and the binding a variant
    /// pattern gives it.
    member: syn::Member,
    binding: Ident,
}

fn fields_of(fields: &Fields, version: Option<Number>) -> Result<Vec<Field>> {
    let mut out = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for (i, f) in fields.iter().enumerate() {
        match FieldAttrs::parse(&f.attrs, version) {
            Ok(attrs) => out.push(Field {
                ty: f.ty.clone(),
                attrs,
                member: match &f.ident {
                    Some(name) => syn::Member::Named(name.clone()),
                    None => syn::Member::Unnamed(i.into()),
                },
                binding: format_ident!("field_{}", i, span = Span::mixed_site()),
            }),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The expression a field starts from on read.
fn blank_of(field: &Field) -> TokenStream {
    let ty = &field.ty;
    if let Some(expr) = &field.attrs.default {
        return quote_spanned! { expr.span()=> #expr };
    }
    if field.attrs.with.is_some() || field.attrs.skip.is_some() {
        // The type need not have an encoding of its own: take its `Blank`
        // when it has one (`SystemTime`), else its `Default`.
        return quote_spanned! { ty.span()=> {
            #[allow(unused_imports)]
            use ::vpack::__private::{BlankByBlank as _, BlankByDefault as _};
            (&&::vpack::__private::Probe::<#ty>::new()).blank()
        }};
    }
    quote_spanned! { ty.span()=> <#ty as ::vpack::Pack>::blank() }
}

/// The statement packing one field, found at `place` (a `&mut` to it).
fn pack_field(field: &Field, place: TokenStream, names: &Names) -> TokenStream {
    let Names { buf, version, .. } = names;
    if field.attrs.skip.is_some() {
        return TokenStream::new();
    }
    let ty = &field.ty;
    let call = match &field.attrs.with {
        Some(with) => quote_spanned! { with.span()=> (#with)(#place, #buf); },
        None => quote_spanned! { ty.span()=> <#ty as ::vpack::Pack>::pack(#place, #buf); },
    };
    let since = field.attrs.since.map(|n| {
        let n = n.value;
        quote! { #version >= #n }
    });
    let until = field.attrs.until.map(|n| {
        let n = n.value;
        quote! { #version <= #n }
    });
    match (since, until) {
        (None, None) => call,
        (Some(s), None) => quote! { if #s { #call } },
        (None, Some(u)) => quote! { if #u { #call } },
        (Some(s), Some(u)) => quote! { if #s && #u { #call } },
    }
}

/// `Self { a: .., b: .. }`, `Self(.., ..)` or `Self` for `path`, each
/// field's value given by `value`.
fn construct(
    path: TokenStream,
    fields: &Fields,
    parts: &[Field],
    value: impl Fn(&Field) -> TokenStream,
) -> TokenStream {
    let values = parts.iter().map(&value);
    match fields {
        Fields::Named(_) => {
            let members = parts.iter().map(|f| &f.member);
            quote! { #path { #(#members: #values),* } }
        }
        Fields::Unnamed(_) => quote! { #path ( #(#values),* ) },
        Fields::Unit => path,
    }
}

/// The pattern binding every field of a variant to its `binding`.
fn pattern(path: TokenStream, fields: &Fields, parts: &[Field]) -> TokenStream {
    construct(path, fields, parts, |f| {
        let b = &f.binding;
        quote! { #b }
    })
}

/// `let version = vpack::version(N, buf);`, or nothing for an unversioned
/// type.
fn version_stmt(attrs: &TypeAttrs, names: &Names, needed: bool) -> TokenStream {
    let Names { buf, version, .. } = names;
    match attrs.version {
        Some(n) if needed => {
            let n = n.value;
            quote! { let #version: u32 = ::vpack::version(#n, #buf); }
        }
        Some(n) => {
            let n = n.value;
            quote! { ::vpack::version(#n, #buf); }
        }
        None => TokenStream::new(),
    }
}

fn uses_version(parts: &[Field]) -> bool {
    parts
        .iter()
        .any(|f| f.attrs.skip.is_none() && (f.attrs.since.is_some() || f.attrs.until.is_some()))
}

/// The expression describing one stored field (`vpack::describe::Field`),
/// or `None` for a skipped one.
fn describe_field(field: &Field) -> Option<TokenStream> {
    if field.attrs.skip.is_some() {
        return None;
    }
    let ty = &field.ty;
    let shape = match &field.attrs.with {
        // `with = vpack::fuint` and the like are known by name; anything
        // else (a function of the program's, a closure) is not described.
        Some(syn::Expr::Path(p))
            if p.path.segments.len() == 2
                && p.path.segments[0].ident == "vpack"
                && p.path.segments[1].arguments.is_empty() =>
        {
            let function = p.path.segments[1].ident.to_string();
            quote! { ::vpack::describe::shape_of_with(#function, ::core::mem::size_of::<#ty>()) }
        }
        Some(_) => quote! { ::vpack::Shape::Unknown },
        None => quote_spanned! { ty.span()=> <#ty as ::vpack::Pack>::describe() },
    };
    let name = match &field.member {
        syn::Member::Named(id) => id.to_string(),
        syn::Member::Unnamed(i) => i.index.to_string(),
    };
    let opt = |n: Option<Number>| match n {
        Some(n) => {
            let v = n.value;
            quote! { ::core::option::Option::Some(#v) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let (since, until) = (opt(field.attrs.since), opt(field.attrs.until));
    Some(quote! {
        ::vpack::describe::Field {
            name: ::std::string::String::from(#name),
            shape: #shape,
            since: #since,
            until: #until,
        }
    })
}

/// `Some(N)` or `None` for the type's version.
fn version_expr(attrs: &TypeAttrs) -> TokenStream {
    match attrs.version {
        Some(n) => {
            let v = n.value;
            quote! { ::core::option::Option::Some(#v) }
        }
        None => quote! { ::core::option::Option::None },
    }
}

/// The body of `describe` for a struct.
fn struct_describe(fields: &Fields, attrs: &TypeAttrs, name: &Ident) -> Result<TokenStream> {
    let parts = fields_of(fields, attrs.version)?;
    let described = parts.iter().filter_map(describe_field);
    let version = version_expr(attrs);
    let name = name.to_string();
    Ok(quote! {
        ::vpack::Shape::Struct {
            name: ::std::string::String::from(#name),
            version: #version,
            fields: ::std::vec![#(#described),*],
        }
    })
}

/// The body of `describe` for an enum.
fn enum_describe(
    data: &syn::DataEnum,
    attrs: &TypeAttrs,
    type_name: &Ident,
) -> Result<TokenStream> {
    let (variants, _) = variants_of(data, attrs, type_name)?;
    let each = variants.iter().map(|v| {
        let tag = u64::from(v.tag);
        let name = v.ident.to_string();
        let fields = v.parts.iter().filter_map(describe_field);
        quote! {
            ::vpack::describe::Variant {
                tag: #tag,
                name: ::std::string::String::from(#name),
                fields: ::std::vec![#(#fields),*],
            }
        }
    });
    let version = version_expr(attrs);
    let name = type_name.to_string();
    Ok(quote! {
        ::vpack::Shape::Enum {
            name: ::std::string::String::from(#name),
            version: #version,
            variants: ::std::vec![#(#each),*],
        }
    })
}

/// The body of `pack` and of `blank` for a struct.
fn struct_bodies(
    fields: &Fields,
    attrs: &TypeAttrs,
    names: &Names,
) -> Result<(TokenStream, TokenStream)> {
    let parts = fields_of(fields, attrs.version)?;
    let version = version_stmt(attrs, names, uses_version(&parts));
    let packs = parts.iter().map(|f| {
        let member = &f.member;
        pack_field(f, quote! { &mut self.#member }, names)
    });
    let pack = quote! {
        #version
        #(#packs)*
    };
    let blank = construct(quote! { Self }, fields, &parts, blank_of);
    Ok((pack, blank))
}

/// One enum variant, read.
struct Variant<'a> {
    ident: &'a Ident,
    fields: &'a Fields,
    parts: Vec<Field>,
    tag: u32,
}

fn variants_of<'a>(
    data: &'a syn::DataEnum,
    attrs: &TypeAttrs,
    type_name: &Ident,
) -> Result<(Vec<Variant<'a>>, usize)> {
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            type_name.span(),
            "an enum without variants has no values to pack",
        ));
    }
    let mut out: Vec<Variant> = Vec::new();
    let mut blank = None;
    for v in &data.variants {
        let va = VariantAttrs::parse(&v.attrs)?;
        let Some(tag) = va.tag else {
            return Err(syn::Error::new(
                v.ident.span(),
                format!(
                    "variant `{}` needs a stable tag: `#[pack(tag = N)]` \
                     (stored in the data, so it must never change)",
                    v.ident
                ),
            ));
        };
        if let Some(other) = out.iter().find(|o| o.tag == tag.value) {
            return Err(syn::Error::new(
                tag.span,
                format!("tag {} is already `{}`'s", tag.value, other.ident),
            ));
        }
        if let Some(span) = va.default {
            if blank.is_some() {
                return Err(syn::Error::new(
                    span,
                    "only one variant can be the `default`",
                ));
            }
            blank = Some(out.len());
        }
        out.push(Variant {
            ident: &v.ident,
            fields: &v.fields,
            parts: fields_of(&v.fields, attrs.version)?,
            tag: tag.value,
        });
    }
    Ok((out, blank.unwrap_or(0)))
}

/// The body of `pack` and of `blank` for an enum.
fn enum_bodies(
    data: &syn::DataEnum,
    attrs: &TypeAttrs,
    type_name: &Ident,
    names: &Names,
) -> Result<(TokenStream, TokenStream)> {
    let Names { buf, tag, at, .. } = names;
    let (variants, blank_index) = variants_of(data, attrs, type_name)?;
    let version = version_stmt(
        attrs,
        names,
        variants.iter().any(|v| uses_version(&v.parts)),
    );
    let name = type_name.to_string();

    let tags = variants.iter().map(|v| {
        let (ident, t) = (v.ident, v.tag);
        match v.fields {
            Fields::Named(_) => quote! { Self::#ident { .. } => #t },
            Fields::Unnamed(_) => quote! { Self::#ident ( .. ) => #t },
            Fields::Unit => quote! { Self::#ident => #t },
        }
    });
    let blanks: Vec<TokenStream> = variants
        .iter()
        .map(|v| {
            let ident = v.ident;
            construct(quote! { Self::#ident }, v.fields, &v.parts, blank_of)
        })
        .collect();
    let starts = variants.iter().zip(&blanks).map(|(v, b)| {
        let t = v.tag;
        quote! { #t => *self = #b, }
    });
    let packs = variants.iter().map(|v| {
        let ident = v.ident;
        let pat = pattern(quote! { Self::#ident }, v.fields, &v.parts);
        let stmts = v.parts.iter().map(|f| {
            let b = &f.binding;
            pack_field(f, quote! { #b }, names)
        });
        quote! { #pat => { #(#stmts)* } }
    });
    let pack = quote! {
        #version
        let #at = #buf.position();
        let mut #tag: u32 = match self { #(#tags),* };
        ::vpack::uint(&mut #tag, #buf);
        if #buf.is_reading() {
            // Read into a blank value of the variant the data names.
            match #tag {
                #(#starts)*
                _ => return #buf.fail_unknown_tag(#name, #tag, #at),
            }
        }
        #[allow(unused_variables)]
        match self {
            #(#packs)*
        }
    };
    Ok((pack, blanks[blank_index].clone()))
}

/// The two impls for `input`.
pub fn derive(input: &DeriveInput) -> Result<TokenStream> {
    let attrs = TypeAttrs::parse(&input.attrs)?;
    let names = Names::new();
    let (pack_body, blank_body, describe_body) = match &input.data {
        Data::Struct(s) => {
            let (pack, blank) = struct_bodies(&s.fields, &attrs, &names)?;
            (
                pack,
                blank,
                struct_describe(&s.fields, &attrs, &input.ident)?,
            )
        }
        Data::Enum(e) => {
            let (pack, blank) = enum_bodies(e, &attrs, &input.ident, &names)?;
            (pack, blank, enum_describe(e, &attrs, &input.ident)?)
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "vpack cannot pack a union: which field is in use is not known",
            ));
        }
    };

    let name = &input.ident;
    let type_name = name.to_string();
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(::vpack::Pack));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let buf = &names.buf;

    let (blank_fn, default_impl) = if attrs.own_default {
        (
            quote! { <Self as ::core::default::Default>::default() },
            TokenStream::new(),
        )
    } else {
        (
            blank_body,
            quote! {
                impl #impl_generics ::core::default::Default for #name #ty_generics #where_clause {
                    fn default() -> Self {
                        <Self as ::vpack::Pack>::blank()
                    }
                }
            },
        )
    };

    Ok(quote! {
        impl #impl_generics ::vpack::Pack for #name #ty_generics #where_clause {
            fn blank() -> Self {
                #blank_fn
            }
            // A `with` closure is called where it is written.
            #[allow(clippy::redundant_closure_call)]
            fn pack(&mut self, #buf: &mut ::vpack::Buffer) {
                #pack_body
            }
            fn describe() -> ::vpack::Shape {
                ::vpack::describe::describing(
                    ::core::any::type_name::<Self>(),
                    #type_name,
                    || #describe_body,
                )
            }
        }
        #default_impl
    })
}
