//! Support for the code `#[derive(Pack)]` generates; not a public API.
//!
//! A field packed `with` a function of the user's choosing need not have an
//! encoding of its own, so its blank value comes from its [`Pack`] impl when
//! it has one (`SystemTime`, which has no `Default`) and from `Default`
//! otherwise. The choice is made by method lookup on `&&Probe<T>`: the
//! `Pack` route matches the receiver exactly and wins; the `Default` route
//! needs one auto-dereference and is taken only when the first does not
//! apply.

use std::marker::PhantomData;

use crate::pack::Pack;

/// Stands for the type `T` in method lookup.
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    /// The probe for `T`. (Not `Default`: that would need `T: Default`.)
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Probe<T> {
        Probe(PhantomData)
    }
}

/// The blank value of a type with an encoding.
pub trait BlankByPack<T> {
    /// `T::blank()`.
    fn blank(&self) -> T;
}

impl<T: Pack> BlankByPack<T> for &Probe<T> {
    #[inline]
    fn blank(&self) -> T {
        T::blank()
    }
}

/// The blank value of a type without an encoding: its `Default`.
pub trait BlankByDefault<T> {
    /// `T::default()`.
    fn blank(&self) -> T;
}

impl<T: Default> BlankByDefault<T> for Probe<T> {
    #[inline]
    fn blank(&self) -> T {
        T::default()
    }
}
