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

/// Implements `vpack::Pack` (and `Default`, unless `#[pack(own_default)]`)
/// for a struct or an enum. See vpack's crate docs, section "Derive".
#[proc_macro_derive(Pack, attributes(pack))]
pub fn derive_pack(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
