//! `#[derive(Pack)]` for [vpack](https://docs.rs/vpack): generates a type's
//! pack function (and its blank value) from the type's declaration.
//!
//! Use it through vpack, which re-exports it with its `derive` feature (on
//! by default): `use vpack::Pack;` brings both the trait and the derive.
//! The attributes and the code they generate are documented in vpack's
//! crate docs, section "Derive".
#![forbid(unsafe_code)]

mod attrs;
mod expand;
mod key;

/// Implements `vpack::Pack` (and `Default`, unless `#[pack(own_default)]`)
/// for a struct or an enum. See vpack's crate docs, section "Derive".
#[proc_macro_derive(Pack, attributes(pack))]
pub fn derive_pack(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `vpack::PackKey` for a struct: its key encoding is each
/// field's own, in order, so its bytes sort like a derived `Ord`. See
/// vpack's `key` module.
#[proc_macro_derive(PackKey, attributes(pack_key))]
pub fn derive_pack_key(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    key::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
