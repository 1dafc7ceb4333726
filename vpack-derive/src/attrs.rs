//! Reading `#[pack(...)]` attributes, and refusing the ones that make no
//! sense, each with an error that points at the offending attribute.
//!
//! Three places take attributes:
//!
//! - the type: `version = N`, `own_default`;
//! - a field: `with = pack_fn`, `since = N`, `until = N`, `default = expr`,
//!   `skip`;
//! - an enum variant: `tag = N`, `default`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, LitInt, Result};

/// A number given in an attribute, with where it was written.
#[derive(Clone, Copy)]
pub struct Number {
    pub value: u32,
    pub span: Span,
}

/// The type's attributes.
#[derive(Default)]
pub struct TypeAttrs {
    /// `version = N`: the type writes a version first, and fields may say
    /// `since` and `until`.
    pub version: Option<Number>,
    /// `own_default`: the type implements `Default` itself; the derive uses
    /// it as the blank value instead of generating it.
    pub own_default: bool,
}

/// A field's attributes.
#[derive(Default)]
pub struct FieldAttrs {
    pub with: Option<Expr>,
    pub since: Option<Number>,
    pub until: Option<Number>,
    pub default: Option<Expr>,
    pub skip: Option<Span>,
}

/// An enum variant's attributes.
#[derive(Default)]
pub struct VariantAttrs {
    pub tag: Option<Number>,
    /// `default`: this variant (with blank fields) is the enum's blank
    /// value, instead of the first variant.
    pub default: Option<Span>,
}

const TYPE_KEYS: &str = "`version = N` or `own_default`";
const FIELD_KEYS: &str = "`with = pack_fn`, `since = N`, `until = N`, `default = expr` or `skip`";
const VARIANT_KEYS: &str = "`tag = N` or `default`";

/// Calls `each` for every item inside every `#[pack(...)]` of `attrs`.
fn for_each_item(
    attrs: &[Attribute],
    mut each: impl FnMut(&ParseNestedMeta) -> Result<()>,
) -> Result<()> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("pack")) {
        attr.parse_nested_meta(|meta| each(&meta))?;
    }
    Ok(())
}

/// The name of an attribute item, for messages.
fn key(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| "?".into())
}

fn unknown(meta: &ParseNestedMeta, expected: &str) -> syn::Error {
    meta.error(format!(
        "unknown vpack attribute `{}`; here it takes {expected}",
        key(meta)
    ))
}

/// Stores `value` in `slot`, refusing a second one.
fn once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta) -> Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{}` is given twice", key(meta))));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads `= N` for a version, a `since`/`until` or a tag.
fn number(meta: &ParseNestedMeta) -> Result<Number> {
    let lit: LitInt = meta.value()?.parse()?;
    let value = lit
        .base10_parse::<u32>()
        .map_err(|_| syn::Error::new(lit.span(), "expected a whole number from 0 to 4294967295"))?;
    Ok(Number {
        value,
        span: lit.span(),
    })
}

impl TypeAttrs {
    pub fn parse(attrs: &[Attribute]) -> Result<TypeAttrs> {
        let mut out = TypeAttrs::default();
        let mut own_default = None;
        for_each_item(attrs, |meta| {
            if meta.path.is_ident("version") {
                let n = number(meta)?;
                if n.value == 0 {
                    return Err(syn::Error::new(n.span, "versions start at 1"));
                }
                once(&mut out.version, n, meta)
            } else if meta.path.is_ident("own_default") {
                once(&mut own_default, (), meta)
            } else {
                Err(unknown(meta, TYPE_KEYS))
            }
        })?;
        out.own_default = own_default.is_some();
        Ok(out)
    }
}

impl FieldAttrs {
    /// Reads a field's attributes and checks them against the type's
    /// `version`.
    pub fn parse(attrs: &[Attribute], version: Option<Number>) -> Result<FieldAttrs> {
        let mut out = FieldAttrs::default();
        for_each_item(attrs, |meta| {
            if meta.path.is_ident("with") {
                once(&mut out.with, meta.value()?.parse()?, meta)
            } else if meta.path.is_ident("default") {
                once(&mut out.default, meta.value()?.parse()?, meta)
            } else if meta.path.is_ident("since") {
                let n = number(meta)?;
                check_against_version(meta, n, version)?;
                once(&mut out.since, n, meta)
            } else if meta.path.is_ident("until") {
                let n = number(meta)?;
                check_against_version(meta, n, version)?;
                if let Some(v) = version
                    && n.value >= v.value
                {
                    return Err(syn::Error::new(
                        n.span,
                        format!(
                            "`until = {}` must be below the type's version {}: \
                             `until` marks a field the current version no longer writes",
                            n.value, v.value
                        ),
                    ));
                }
                once(&mut out.until, n, meta)
            } else if meta.path.is_ident("skip") {
                once(&mut out.skip, meta.path.span(), meta)
            } else {
                Err(unknown(meta, FIELD_KEYS))
            }
        })?;
        if let (Some(since), Some(until)) = (out.since, out.until)
            && since.value > until.value
        {
            return Err(syn::Error::new(
                until.span,
                format!(
                    "`until = {}` is before `since = {}`: no version stores this field",
                    until.value, since.value
                ),
            ));
        }
        if let Some(span) = out.skip
            && (out.with.is_some() || out.since.is_some() || out.until.is_some())
        {
            return Err(syn::Error::new(
                span,
                "a `skip` field is never packed: it takes no `with`, `since` or `until`",
            ));
        }
        Ok(out)
    }
}

/// `since` and `until` need a versioned type, and a number no newer than it.
fn check_against_version(meta: &ParseNestedMeta, n: Number, version: Option<Number>) -> Result<()> {
    let what = key(meta);
    let Some(v) = version else {
        return Err(syn::Error::new(
            n.span,
            format!("`{what}` needs a versioned type: add `#[pack(version = N)]` to the type"),
        ));
    };
    if n.value == 0 || n.value > v.value {
        return Err(syn::Error::new(
            n.span,
            format!(
                "`{what} = {}` is outside the type's versions 1 to {}",
                n.value, v.value
            ),
        ));
    }
    Ok(())
}

impl VariantAttrs {
    pub fn parse(attrs: &[Attribute]) -> Result<VariantAttrs> {
        let mut out = VariantAttrs::default();
        for_each_item(attrs, |meta| {
            if meta.path.is_ident("tag") {
                once(&mut out.tag, number(meta)?, meta)
            } else if meta.path.is_ident("default") {
                once(&mut out.default, meta.path.span(), meta)
            } else {
                Err(unknown(meta, VARIANT_KEYS))
            }
        })?;
        Ok(out)
    }
}
