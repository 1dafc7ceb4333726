//! Support for the code `#[derive(Pack)]` generates; not a public API.
//!
//! A field packed `with` a function of the user's choosing need not have an
//! encoding of its own, so its blank value comes from [`Blank`] when it has
//! one (`SystemTime`, which has no `Default`, and every type with a `Pack`
//! impl) and from `Default` otherwise. The choice is made by method lookup
//! on `&&Probe<T>`: the `Blank` route matches the receiver exactly and
//! wins; the `Default` route needs one auto-dereference and is taken only
//! when the first does not apply.

use std::marker::PhantomData;

use crate::blank::Blank;

/// Stands for the type `T` in method lookup.
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    /// The probe for `T`. (Not `Default`: that would need `T: Default`.)
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Probe<T> {
        Probe(PhantomData)
    }
}

/// The blank value of a type that has one.
pub trait BlankByBlank<T> {
    /// `T::blank()`.
    fn blank(&self) -> T;
}

impl<T: Blank> BlankByBlank<T> for &Probe<T> {
    #[inline]
    fn blank(&self) -> T {
        T::blank()
    }
}

/// The blank value of any other type: its `Default`.
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
