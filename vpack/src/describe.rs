//! Descriptions: what a pack function's bytes hold, as data.
//!
//! A pack function is code, so a tool that holds only the bytes cannot
//! read them. A [`Shape`] says the same thing as data: which of vpack's
//! encodings each part uses, in what order, and for a versioned struct
//! which fields each version stores. `#[derive(Pack)]` writes one for the
//! type ([`Pack::describe`]), and vpack's own impls describe themselves;
//! a hand-written pack function has none ([`Shape::Unknown`]). A database
//! records the shapes of its declarations, so it can refuse a program whose
//! types no longer match the file, and a tool can show stored values
//! without the program.
//!
//! ```
//! use vpack::{Pack, Shape, describe::{Field, Leaf}};
//!
//! #[derive(Pack)]
//! #[pack(version = 2)]
//! struct User {
//!     name: String,
//!     #[pack(since = 2)]
//!     email: Option<String>,
//! }
//!
//! let Shape::Struct { name, version, fields } = User::describe() else { unreachable!() };
//! assert_eq!((name.as_str(), version), ("User", Some(2)));
//! assert_eq!(fields[0], Field::new("name", Shape::Leaf(Leaf::String)));
//! assert_eq!(fields[1].since, Some(2));
//! assert_eq!(fields[1].shape, Shape::Option(Box::new(Shape::Leaf(Leaf::String))));
//! ```
//!
//! Shapes pack with vpack itself ([`Shape::pack`] is derived), so a file
//! can keep them.

use crate::Pack;

/// One of vpack's leaf encodings, named as its function is.
#[derive(Pack, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// [`uint`](crate::uint): unsigned varint.
    #[pack(tag = 1)]
    Uint,
    /// [`int`](crate::int): zig-zag varint.
    #[pack(tag = 2)]
    Int,
    /// [`fuint`](crate::fuint): big-endian, this many bytes.
    #[pack(tag = 3)]
    Fuint(u8),
    /// [`fint`](crate::fint): two's complement, big-endian, this many bytes.
    #[pack(tag = 4)]
    Fint(u8),
    /// [`fint_ord`](crate::fint_ord): sign bit flipped, this many bytes.
    #[pack(tag = 5)]
    FintOrd(u8),
    /// [`byte`](crate::byte).
    #[pack(tag = 6)]
    Byte,
    /// [`bool`](fn@crate::bool).
    #[pack(tag = 7)]
    Bool,
    /// [`f32`](fn@crate::f32).
    #[pack(tag = 8)]
    F32,
    /// [`f64`](fn@crate::f64).
    #[pack(tag = 9)]
    F64,
    /// [`rune`](crate::rune).
    #[pack(tag = 10)]
    Rune,
    /// [`string`](crate::string): length, then UTF-8.
    #[pack(tag = 11)]
    String,
    /// [`string_z`](crate::string_z): UTF-8, then a NUL.
    #[pack(tag = 12)]
    StringZ,
    /// [`bytes`](crate::bytes): length, then the bytes.
    #[pack(tag = 13)]
    Bytes,
    /// [`array`](fn@crate::array): this many bytes, no length.
    #[pack(tag = 14)]
    Array(u32),
    /// [`uuid`](fn@crate::uuid): 16 bytes.
    #[pack(tag = 15)]
    Uuid,
    /// [`unix_time`](crate::unix_time).
    #[pack(tag = 16)]
    UnixTime,
    /// [`unix_time_key`](crate::unix_time_key).
    #[pack(tag = 17)]
    UnixTimeKey,
    /// [`unix_time_ord`](crate::unix_time_ord).
    #[pack(tag = 18)]
    UnixTimeOrd,
    /// [`unix_time_milli`](crate::unix_time_milli).
    #[pack(tag = 19)]
    UnixTimeMilli,
    /// [`unix_time_milli_key`](crate::unix_time_milli_key).
    #[pack(tag = 20)]
    UnixTimeMilliKey,
    /// [`unix_time_milli_ord`](crate::unix_time_milli_ord).
    #[pack(tag = 21)]
    UnixTimeMilliOrd,
}

/// What a pack function's bytes hold.
#[derive(Pack, Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// No description: a hand-written pack function (or a `with` function
    /// derive does not know).
    #[pack(tag = 0, default)]
    Unknown,
    /// One of vpack's leaf encodings.
    #[pack(tag = 1)]
    Leaf(Leaf),
    /// [`vec`](fn@crate::vec): a length, then the items.
    #[pack(tag = 2)]
    Vec(Box<Shape>),
    /// [`option`](fn@crate::option): a presence byte, then the value.
    #[pack(tag = 3)]
    Option(Box<Shape>),
    /// A map: a length, then key and value pairs, keys ascending.
    #[pack(tag = 4)]
    Map(Box<Shape>, Box<Shape>),
    /// Parts one after the other (a tuple, an array of `N` items, a key of
    /// several parts).
    #[pack(tag = 5)]
    Seq(Vec<Shape>),
    /// [`checked`](crate::checked): the value, then its CRC-32.
    #[pack(tag = 6)]
    Checked(Box<Shape>),
    /// A struct: its version first (if it has one), then its fields.
    #[pack(tag = 7)]
    Struct {
        /// The type's name.
        name: String,
        /// The version it writes, if versioned.
        version: Option<u32>,
        /// The stored fields, in order.
        fields: Vec<Field>,
    },
    /// An enum: its version first (if it has one), then the variant's tag
    /// (unsigned varint), then the variant's fields.
    #[pack(tag = 8)]
    Enum {
        /// The type's name.
        name: String,
        /// The version it writes, if versioned.
        version: Option<u32>,
        /// Its variants.
        variants: Vec<Variant>,
    },
    /// The enclosing struct or enum of this name, again: a type that
    /// contains itself (through a `Box`, `Vec` or `Option`).
    #[pack(tag = 9)]
    Recursive(String),
}

/// A stored field of a struct or variant.
#[derive(Pack, Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its name (`0`, `1`, ... in a tuple struct).
    pub name: String,
    /// Its encoding.
    pub shape: Shape,
    /// Stored from this version on (`#[pack(since = N)]`).
    pub since: Option<u32>,
    /// Stored up to this version (`#[pack(until = N)]`).
    pub until: Option<u32>,
}

impl Field {
    /// A field stored by every version.
    pub fn new(name: &str, shape: Shape) -> Field {
        Field {
            name: name.to_string(),
            shape,
            since: None,
            until: None,
        }
    }
}

/// An enum variant.
#[derive(Pack, Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Its tag in the data.
    pub tag: u64,
    /// Its name.
    pub name: String,
    /// Its fields.
    pub fields: Vec<Field>,
}

impl Shape {
    /// True when nothing is known ([`Shape::Unknown`]) here or in any part.
    pub fn is_known(&self) -> bool {
        match self {
            Shape::Unknown => false,
            Shape::Leaf(_) | Shape::Recursive(_) => true,
            Shape::Vec(s) | Shape::Option(s) | Shape::Checked(s) => s.is_known(),
            Shape::Map(k, v) => k.is_known() && v.is_known(),
            Shape::Seq(parts) => parts.iter().all(Shape::is_known),
            Shape::Struct { fields, .. } => fields.iter().all(|f| f.shape.is_known()),
            Shape::Enum { variants, .. } => variants
                .iter()
                .all(|v| v.fields.iter().all(|f| f.shape.is_known())),
        }
    }

    /// Whether data written with `older` reads with `self`: the same
    /// shape, or the same struct at the same or a later version whose
    /// fields for `older`'s version are `older`'s (a field added `since` a
    /// later version, a field kept `until` an older one, are fine). An
    /// unknown shape on either side cannot be judged and is accepted.
    pub fn reads(&self, older: &Shape) -> bool {
        match (self, older) {
            (Shape::Unknown, _) | (_, Shape::Unknown) => true,
            (
                Shape::Struct {
                    name,
                    version: Some(v),
                    fields,
                },
                Shape::Struct {
                    name: old_name,
                    version: Some(old_v),
                    fields: old_fields,
                },
            ) if name == old_name => {
                if v < old_v {
                    return false;
                }
                let stored = |fs: &[Field], at: u32| -> Vec<Shape> {
                    fs.iter()
                        .filter(|f| {
                            f.since.is_none_or(|s| at >= s) && f.until.is_none_or(|u| at <= u)
                        })
                        .map(|f| f.shape.clone())
                        .collect()
                };
                let mine = stored(fields, *old_v);
                let theirs = stored(old_fields, *old_v);
                mine.len() == theirs.len() && mine.iter().zip(&theirs).all(|(a, b)| a.reads(b))
            }
            (Shape::Vec(a), Shape::Vec(b))
            | (Shape::Option(a), Shape::Option(b))
            | (Shape::Checked(a), Shape::Checked(b)) => a.reads(b),
            (Shape::Map(ak, av), Shape::Map(bk, bv)) => ak.reads(bk) && av.reads(bv),
            (Shape::Seq(a), Shape::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.reads(y))
            }
            _ => self == older,
        }
    }
}

impl std::fmt::Display for Shape {
    /// A one-line, Rust-like form: `User v2 { name: string, email:
    /// option<string> (since 2) }`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn fields(f: &mut std::fmt::Formatter<'_>, fs: &[Field]) -> std::fmt::Result {
            f.write_str("{ ")?;
            for (i, x) in fs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}: {}", x.name, x.shape)?;
                match (x.since, x.until) {
                    (Some(s), Some(u)) => write!(f, " (since {s}, until {u})")?,
                    (Some(s), None) => write!(f, " (since {s})")?,
                    (None, Some(u)) => write!(f, " (until {u})")?,
                    (None, None) => {}
                }
            }
            f.write_str(" }")
        }
        match self {
            Shape::Unknown => f.write_str("?"),
            Shape::Recursive(name) => f.write_str(name),
            Shape::Leaf(l) => write!(f, "{l}"),
            Shape::Vec(s) => write!(f, "vec<{s}>"),
            Shape::Option(s) => write!(f, "option<{s}>"),
            Shape::Checked(s) => write!(f, "checked<{s}>"),
            Shape::Map(k, v) => write!(f, "map<{k}, {v}>"),
            Shape::Seq(parts) => {
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                f.write_str(")")
            }
            Shape::Struct {
                name,
                version,
                fields: fs,
            } => {
                f.write_str(name)?;
                if let Some(v) = version {
                    write!(f, " v{v}")?;
                }
                f.write_str(" ")?;
                fields(f, fs)
            }
            Shape::Enum {
                name,
                version,
                variants,
            } => {
                f.write_str(name)?;
                if let Some(v) = version {
                    write!(f, " v{v}")?;
                }
                f.write_str(" { ")?;
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{} = {}", v.name, v.tag)?;
                    if !v.fields.is_empty() {
                        f.write_str(" ")?;
                        fields(f, &v.fields)?;
                    }
                }
                f.write_str(" }")
            }
        }
    }
}

impl std::fmt::Display for Leaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Leaf::Fuint(n) => write!(f, "fuint{}", u32::from(*n) * 8),
            Leaf::Fint(n) => write!(f, "fint{}", u32::from(*n) * 8),
            Leaf::FintOrd(n) => write!(f, "fint_ord{}", u32::from(*n) * 8),
            Leaf::Array(n) => write!(f, "array{n}"),
            other => f.write_str(match other {
                Leaf::Uint => "uint",
                Leaf::Int => "int",
                Leaf::Byte => "byte",
                Leaf::Bool => "bool",
                Leaf::F32 => "f32",
                Leaf::F64 => "f64",
                Leaf::Rune => "rune",
                Leaf::String => "string",
                Leaf::StringZ => "string_z",
                Leaf::Bytes => "bytes",
                Leaf::Uuid => "uuid",
                Leaf::UnixTime => "unix_time",
                Leaf::UnixTimeKey => "unix_time_key",
                Leaf::UnixTimeOrd => "unix_time_ord",
                Leaf::UnixTimeMilli => "unix_time_milli",
                Leaf::UnixTimeMilliKey => "unix_time_milli_key",
                _ => "unix_time_milli_ord",
            }),
        }
    }
}

/// The shape of a field packed `with` a vpack function, recognised by the
/// function's name (`fuint`, `vpack::string_z`, ...) and, for the fixed
/// widths, the field's size in bytes. For derive; anything else is
/// [`Shape::Unknown`].
#[doc(hidden)]
pub fn shape_of_with(function: &str, size: usize) -> Shape {
    let n = u8::try_from(size).unwrap_or(0);
    let leaf = match function {
        "uint" => Leaf::Uint,
        "int" => Leaf::Int,
        "fuint" => Leaf::Fuint(n),
        "fint" => Leaf::Fint(n),
        "fint_ord" => Leaf::FintOrd(n),
        "byte" => Leaf::Byte,
        "bool" => Leaf::Bool,
        "f32" => Leaf::F32,
        "f64" => Leaf::F64,
        "rune" => Leaf::Rune,
        "string" => Leaf::String,
        "string_z" => Leaf::StringZ,
        "bytes" => Leaf::Bytes,
        "array" => Leaf::Array(size as u32),
        "uuid" => Leaf::Uuid,
        "unix_time" => Leaf::UnixTime,
        "unix_time_key" => Leaf::UnixTimeKey,
        "unix_time_ord" => Leaf::UnixTimeOrd,
        "unix_time_milli" => Leaf::UnixTimeMilli,
        "unix_time_milli_key" => Leaf::UnixTimeMilliKey,
        "unix_time_milli_ord" => Leaf::UnixTimeMilliOrd,
        _ => return Shape::Unknown,
    };
    Shape::Leaf(leaf)
}

std::thread_local! {
    /// The types being described on this thread, innermost last.
    static DESCRIBING: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs a derived `describe` body for the type `id` (its full type name),
/// named `name`: a type met again inside its own description is
/// [`Shape::Recursive`] instead of an endless descent. For derive.
#[doc(hidden)]
pub fn describing(id: &'static str, name: &str, body: impl FnOnce() -> Shape) -> Shape {
    let again = DESCRIBING.with(|d| {
        let mut d = d.borrow_mut();
        let again = d.contains(&id);
        if !again {
            d.push(id);
        }
        again
    });
    if again {
        return Shape::Recursive(name.to_string());
    }
    // Popped even if `body` panics (a user's `describe` may).
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            DESCRIBING.with(|d| d.borrow_mut().pop());
        }
    }
    let _pop = Pop;
    body()
}
