//! Writing `vpack::PackKey` for a struct: its key encoding is each field's
//! own key encoding (`PackKey::KEY`), in declaration order, so the bytes
//! sort the way a derived `Ord` compares (field by field).
//!
//! A field may name another key encoding with `#[pack_key(with = EXPR)]`
//! (a `vpack::KeyFn` of its type, such as `vpack::key::unix_time_ord()`).
//! `#[pack(...)]` attributes belong to `derive(Pack)`, the value encoding,
//! and are left alone, so one type can derive both.
//!
//! What cannot sort that way is refused: enums, generic structs, structs
//! without fields, and (when the constant is evaluated, so still at compile
//! time) a field before the last whose encoding is not self-delimiting.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Ident, Result};

pub fn derive(input: &DeriveInput) -> Result<TokenStream> {
    let name = &input.ident;
    let refuse = |span: Span, why: &str| Err(syn::Error::new(span, why));
    if !input.generics.params.is_empty() {
        return refuse(
            input.generics.span(),
            "#[derive(PackKey)] is for structs without type or lifetime parameters",
        );
    }
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => {
            return refuse(
                name.span(),
                "#[derive(PackKey)] is for structs: an enum's tags do not follow its `Ord`",
            );
        }
    };
    if fields.is_empty() {
        return refuse(
            name.span(),
            "#[derive(PackKey)] needs at least one field: an empty key cannot be stored",
        );
    }
    if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("pack_key")) {
        return refuse(
            attr.span(),
            "#[pack_key(...)] goes on a field (its key encoding), not on the type",
        );
    }
    let type_name = name.to_string();
    let value = Ident::new("value", Span::mixed_site());
    let buf = Ident::new("buf", Span::mixed_site());
    let mut calls = Vec::new();
    let mut parts = Vec::new();
    let mut shapes = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let ty = &f.ty;
        let key = match field_key(f)? {
            Some(expr) => quote_spanned! { expr.span()=> {
                let key: ::vpack::KeyFn<#ty> = #expr;
                key
            } },
            None => quote_spanned! { ty.span()=> <#ty as ::vpack::PackKey>::KEY },
        };
        let member = match &f.ident {
            Some(id) => syn::Member::Named(id.clone()),
            None => syn::Member::Unnamed(i.into()),
        };
        calls.push(quote! {
            (#key.pack())(&mut #value.#member, #buf);
        });
        parts.push(quote! { ::vpack::key::part(#key) });
        let field_name = match &f.ident {
            Some(id) => id.to_string(),
            None => i.to_string(),
        };
        shapes.push(quote! {
            ::vpack::describe::Field::new(#field_name, #key.describe())
        });
    }
    Ok(quote! {
        impl ::vpack::PackKey for #name {
            const KEY: ::vpack::KeyFn<#name> = {
                fn pack(#value: &mut #name, #buf: &mut ::vpack::Buffer<'_>) {
                    #(#calls)*
                }
                fn shape() -> ::vpack::Shape {
                    ::vpack::Shape::Struct {
                        name: ::std::string::String::from(#type_name),
                        version: ::core::option::Option::None,
                        fields: ::std::vec![#(#shapes),*],
                    }
                }
                ::vpack::key::compound("derived", pack, shape, &[#(#parts),*])
            };
        }
        // Evaluated even by `cargo check`: a part that cannot be followed
        // by another is refused where the type is declared.
        const _: ::vpack::KeyFn<#name> = <#name as ::vpack::PackKey>::KEY;
    })
}

/// A field's `#[pack_key(with = EXPR)]`: its key encoding when not its
/// type's own (a `vpack::KeyFn` of the field's type). `#[pack(...)]`
/// belongs to `derive(Pack)` (the value encoding) and is not read here.
fn field_key(field: &syn::Field) -> Result<Option<syn::Expr>> {
    let mut key = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("pack_key")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("with") && key.is_none() {
                key = Some(meta.value()?.parse::<syn::Expr>()?);
                Ok(())
            } else {
                Err(meta.error(
                    "#[pack_key(...)] takes one `with = vpack::key::...`: the field's key \
                     encoding, when not its type's own",
                ))
            }
        })?;
    }
    Ok(key)
}
