//! Reading bytes by their description: [`Shape::read`] turns packed bytes
//! into a [`Value`] tree, with no Rust type for them. This is how a tool
//! shows what a database holds without the program that wrote it.
//!
//! ```
//! use vpack::{Pack, Shape, Value};
//!
//! #[derive(Pack)]
//! #[pack(version = 1)]
//! struct Point { x: i64, label: String }
//!
//! let bytes = Point { x: -3, label: "corner".into() }.to_bytes()?;
//! let value = Point::describe().read(&bytes)?;
//! assert_eq!(value.to_string(), r#"Point { x: -3, label: "corner" }"#);
//! # Ok::<(), vpack::Error>(())
//! ```
//!
//! Reading is as safe as any vpack decoding: bounded by the input, never a
//! panic. A part with no description ([`Shape::Unknown`]) ends the reading
//! there: the bytes from it on are kept as [`Value::Rest`], since nothing
//! says where that part ends.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::buffer::Buffer;
use crate::describe::{Field, Leaf, Shape};
use crate::error::{Error, ErrorKind};

/// A value read by its description.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// An absent option.
    #[default]
    None,
    /// A bool.
    Bool(bool),
    /// An unsigned integer.
    Uint(u128),
    /// A signed integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string or a char.
    Text(String),
    /// Bytes (a byte string, an array, a UUID).
    Bytes(Vec<u8>),
    /// A time, in milliseconds since 1970 (negative before).
    TimeMillis(i128),
    /// A present option.
    Some(Box<Value>),
    /// A vec or a sequence of parts.
    List(Vec<Value>),
    /// A map's entries, in order.
    Map(Vec<(Value, Value)>),
    /// A struct: its name, the version stored, its fields.
    Struct {
        /// The type's name.
        name: String,
        /// The version the bytes were written with, if versioned.
        version: Option<u32>,
        /// (field name, value) for each field that version stores.
        fields: Vec<(String, Value)>,
    },
    /// An enum variant: the type's name, the variant's, its fields.
    Variant {
        /// The type's name.
        name: String,
        /// The variant's name.
        variant: String,
        /// (field name, value) for each field.
        fields: Vec<(String, Value)>,
    },
    /// Bytes no description covers, from an undescribed part to the end.
    Rest(Vec<u8>),
}

impl Shape {
    /// Reads `bytes` as this shape describes them; fails as vpack's
    /// functions do on malformed bytes, and on bytes left over.
    pub fn read(&self, bytes: &[u8]) -> Result<Value, Error> {
        let mut buf = Buffer::reader(bytes);
        let mut out = Value::None;
        let mut outer = Vec::new();
        let mut done = false;
        read(self, &mut out, &mut buf, &mut outer, &mut done);
        buf.finish()?;
        Ok(out)
    }
}

/// Reads one part into `out`. `outer` holds the enclosing struct and enum
/// shapes (for [`Shape::Recursive`]); `done` is set once an undescribed
/// part took the rest of the bytes.
fn read<'s>(
    shape: &'s Shape,
    out: &mut Value,
    buf: &mut Buffer,
    outer: &mut Vec<&'s Shape>,
    done: &mut bool,
) {
    if *done || !buf.is_ok() {
        return;
    }
    match shape {
        Shape::Unknown => {
            let mut rest = vec![0u8; buf.remaining()];
            crate::fixed::byte_slice(&mut rest, buf);
            *out = Value::Rest(rest);
            *done = true;
        }
        Shape::Leaf(leaf) => *out = read_leaf(*leaf, buf),
        Shape::Vec(item) => {
            let mut items: Vec<Value> = Vec::new();
            crate::vec(&mut items, buf, |x, buf| read(item, x, buf, outer, done));
            *out = Value::List(items);
        }
        Shape::Option(item) => {
            let mut v: Option<Value> = None;
            crate::option(&mut v, buf, |x, buf| read(item, x, buf, outer, done));
            *out = v.map_or(Value::None, |x| Value::Some(Box::new(x)));
        }
        Shape::Map(k, v) => {
            let mut pairs: Vec<(Value, Value)> = Vec::new();
            crate::vec(&mut pairs, buf, |(a, b), buf| {
                read(k, a, buf, outer, done);
                read(v, b, buf, outer, done);
            });
            *out = Value::Map(pairs);
        }
        Shape::Seq(parts) => {
            let mut values = Vec::with_capacity(parts.len().min(buf.remaining() + 1));
            for p in parts {
                let mut x = Value::None;
                read(p, &mut x, buf, outer, done);
                values.push(x);
            }
            *out = Value::List(values);
        }
        Shape::Checked(inner) => {
            let mark = buf.mark();
            read(inner, out, buf, outer, done);
            if buf.is_ok() && !*done {
                let computed = crc32fast::hash(buf.since(&mark));
                let at = buf.position();
                let mut stored = 0u32;
                crate::fuint(&mut stored, buf);
                if buf.is_ok() && stored != computed {
                    buf.fail_at(ErrorKind::ChecksumMismatch { stored, computed }, at);
                }
            }
        }
        Shape::Struct {
            name,
            version,
            fields,
        } => {
            let stored = version.map(|v| crate::version(v, buf));
            outer.push(shape);
            let values = read_fields(fields, stored, buf, outer, done);
            outer.pop();
            *out = Value::Struct {
                name: name.clone(),
                version: stored,
                fields: values,
            };
        }
        Shape::Enum {
            name,
            version,
            variants,
        } => {
            let stored = version.map(|v| crate::version(v, buf));
            let at = buf.position();
            let mut tag = 0u64;
            crate::uint(&mut tag, buf);
            if !buf.is_ok() {
                return;
            }
            let Some(variant) = variants.iter().find(|v| v.tag == tag) else {
                return buf.fail_at(
                    ErrorKind::Invalid("an enum tag that no variant of the description has"),
                    at,
                );
            };
            outer.push(shape);
            let values = read_fields(&variant.fields, stored, buf, outer, done);
            outer.pop();
            *out = Value::Variant {
                name: name.clone(),
                variant: variant.name.clone(),
                fields: values,
            };
        }
        Shape::Recursive(name) => {
            let again = outer.iter().rev().find(|s| match s {
                Shape::Struct { name: n, .. } | Shape::Enum { name: n, .. } => n == name,
                _ => false,
            });
            match again {
                // Each level of the type counts against the nesting limit.
                Some(s) if buf.enter() => {
                    read(s, out, buf, outer, done);
                    buf.leave();
                }
                Some(_) => {}
                None => buf.fail("a recursive shape names no enclosing type"),
            }
        }
    }
}

fn read_fields<'s>(
    fields: &'s [Field],
    stored: Option<u32>,
    buf: &mut Buffer,
    outer: &mut Vec<&'s Shape>,
    done: &mut bool,
) -> Vec<(String, Value)> {
    let mut values = Vec::new();
    for f in fields {
        let present = match stored {
            Some(v) => f.since.is_none_or(|s| v >= s) && f.until.is_none_or(|u| v <= u),
            None => true,
        };
        if !present || *done || !buf.is_ok() {
            continue;
        }
        let mut x = Value::None;
        read(&f.shape, &mut x, buf, outer, done);
        values.push((f.name.clone(), x));
    }
    values
}

fn read_leaf(leaf: Leaf, buf: &mut Buffer) -> Value {
    fn fixed(buf: &mut Buffer, n: u8) -> Option<u128> {
        if !(1..=16).contains(&n) {
            buf.fail("a fixed-width integer of no supported width");
            return None;
        }
        let mut b = vec![0u8; usize::from(n)];
        crate::fixed::byte_slice(&mut b, buf);
        Some(b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x)))
    }
    let bits = |n: u8| u32::from(n) * 8;
    match leaf {
        Leaf::Uint => {
            let mut v = 0u128;
            crate::uint(&mut v, buf);
            Value::Uint(v)
        }
        Leaf::Int => {
            let mut v = 0i128;
            crate::int(&mut v, buf);
            Value::Int(v)
        }
        Leaf::Fuint(n) => fixed(buf, n).map_or(Value::None, Value::Uint),
        Leaf::Fint(n) => fixed(buf, n).map_or(Value::None, |u| {
            // Sign-extend from n bytes.
            let shift = 128 - bits(n);
            Value::Int(((u << shift) as i128) >> shift)
        }),
        Leaf::FintOrd(n) => fixed(buf, n).map_or(Value::None, |u| {
            let sign = 1u128 << (bits(n) - 1);
            let shift = 128 - bits(n);
            Value::Int((((u ^ sign) << shift) as i128) >> shift)
        }),
        Leaf::Byte => {
            let mut v = 0u8;
            crate::byte(&mut v, buf);
            Value::Uint(u128::from(v))
        }
        Leaf::Bool => {
            let mut v = false;
            crate::bool(&mut v, buf);
            Value::Bool(v)
        }
        Leaf::F32 => {
            let mut v = 0f32;
            crate::f32(&mut v, buf);
            Value::Float(f64::from(v))
        }
        Leaf::F64 => {
            let mut v = 0f64;
            crate::f64(&mut v, buf);
            Value::Float(v)
        }
        Leaf::Rune => {
            let mut v = '\0';
            crate::rune(&mut v, buf);
            Value::Text(v.to_string())
        }
        Leaf::String | Leaf::StringZ => {
            let mut v = String::new();
            if leaf == Leaf::String {
                crate::string(&mut v, buf);
            } else {
                crate::string_z(&mut v, buf);
            }
            Value::Text(v)
        }
        Leaf::Bytes => {
            let mut v = Vec::new();
            crate::bytes(&mut v, buf);
            Value::Bytes(v)
        }
        Leaf::Array(n) => {
            let n = (n as usize).min(buf.remaining() + 1);
            let mut v = vec![0u8; n];
            crate::fixed::byte_slice(&mut v, buf);
            Value::Bytes(v)
        }
        Leaf::Uuid => {
            let mut v = uuid::Uuid::nil();
            crate::uuid(&mut v, buf);
            Value::Bytes(v.as_bytes().to_vec())
        }
        Leaf::UnixTime
        | Leaf::UnixTimeKey
        | Leaf::UnixTimeOrd
        | Leaf::UnixTimeMilli
        | Leaf::UnixTimeMilliKey
        | Leaf::UnixTimeMilliOrd => {
            let mut t = UNIX_EPOCH;
            let f: crate::PackFn<SystemTime> = match leaf {
                Leaf::UnixTime => crate::unix_time,
                Leaf::UnixTimeKey => crate::unix_time_key,
                Leaf::UnixTimeOrd => crate::unix_time_ord,
                Leaf::UnixTimeMilli => crate::unix_time_milli,
                Leaf::UnixTimeMilliKey => crate::unix_time_milli_key,
                _ => crate::unix_time_milli_ord,
            };
            f(&mut t, buf);
            Value::TimeMillis(match t.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_millis() as i128,
                Err(e) => -(e.duration().as_millis() as i128),
            })
        }
    }
}

impl std::fmt::Display for Value {
    /// A Rust-like form: `User v2 { name: "ann", email: Some("a@b") }`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn fields(f: &mut std::fmt::Formatter<'_>, fs: &[(String, Value)]) -> std::fmt::Result {
            f.write_str("{ ")?;
            for (i, (n, v)) in fs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{n}: {v}")?;
            }
            f.write_str(" }")
        }
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Uint(n) => write!(f, "{n}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Bytes(b) | Value::Rest(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
            Value::TimeMillis(ms) => write!(f, "{}", format_millis(*ms)),
            Value::Some(v) => write!(f, "Some({v})"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Struct {
                name, fields: fs, ..
            } => {
                write!(f, "{name} ")?;
                fields(f, fs)
            }
            Value::Variant {
                variant,
                fields: fs,
                ..
            } => {
                f.write_str(variant)?;
                if fs.is_empty() {
                    Ok(())
                } else {
                    f.write_str(" ")?;
                    fields(f, fs)
                }
            }
        }
    }
}

/// Milliseconds since 1970 as a UTC date and time (RFC 3339).
pub fn format_millis(ms: i128) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
