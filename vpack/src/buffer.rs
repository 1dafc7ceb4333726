//! The [`Buffer`]: one type that is either a writer or a reader, so that a
//! single pack function can serve both directions.

use crate::error::{Error, ErrorKind};

/// The shape of every pack function: it packs `T` into the buffer when the
/// buffer writes, and unpacks `T` from it when the buffer reads.
///
/// Any `fn(&mut T, &mut Buffer)` item coerces to this type.
pub type PackFn<T> = for<'a> fn(&mut T, &mut Buffer<'a>);

/// A byte buffer that is either writing (packing) or reading (unpacking).
///
/// A writer appends to a `Vec<u8>` it borrows, so a caller can reuse one
/// allocation for many values. A reader borrows the input bytes and never
/// copies them.
///
/// The first failure is recorded and every later operation becomes a no-op,
/// so pack functions never check errors themselves: the caller sees the
/// failure once, from [`Buffer::finish`] or the entry points
/// ([`to_bytes`](crate::to_bytes), [`from_bytes`](crate::from_bytes)).
///
/// ```
/// use vpack::Buffer;
///
/// let mut out = Vec::new();
/// let mut w = Buffer::writer(&mut out);
/// let mut n = 300i64;
/// vpack::int(&mut n, &mut w);
/// assert_eq!(w.finish(), Ok(2));
/// assert_eq!(out, [0xd8, 0x04]);
///
/// let mut r = Buffer::reader(&out);
/// let mut back = 0i64;
/// vpack::int(&mut back, &mut r);
/// assert_eq!(r.finish(), Ok(2));
/// assert_eq!(back, 300);
/// ```
pub struct Buffer<'a> {
    /// A reader's unread input. Always empty for a writer, and emptied by
    /// the first failure, so every later read fails by the same bounds
    /// check that guards a normal read: the hot paths test nothing else.
    rest: &'a [u8],
    /// A writer's output; `None` for a reader, and taken away by a writer's
    /// first failure so every later write is dropped.
    out: Option<&'a mut Vec<u8>>,
    /// Where `position` counts from. A writer: the output's length when it
    /// started. A reader: the input's length, from which `rest.len()` is
    /// subtracted. After a failure: the position at the failure.
    base: usize,
    writing: bool,
    /// How many collections (vectors, maps, options) the value being packed
    /// is nested in; bounded by [`MAX_DEPTH`].
    depth: u32,
    error: Option<Error>,
}

/// A position in a buffer's output or input ([`Buffer::mark`]).
pub(crate) enum Mark<'a> {
    /// A writer's output length.
    Write(usize),
    /// A reader's unread input.
    Read(&'a [u8]),
}

/// The deepest nesting of collections a buffer packs or unpacks: a
/// recursive type (a tree of `Vec<Node>`) read from hostile bytes cannot
/// exhaust the stack, it fails with [`ErrorKind::TooDeep`].
pub const MAX_DEPTH: u32 = 128;

impl<'a> Buffer<'a> {
    /// A writer that appends to `out` (existing contents are kept).
    #[inline]
    pub fn writer(out: &'a mut Vec<u8>) -> Buffer<'a> {
        Buffer {
            rest: &[],
            base: out.len(),
            out: Some(out),
            writing: true,
            depth: 0,
            error: None,
        }
    }

    /// A reader over `data`, starting at its first byte.
    #[inline]
    pub fn reader(data: &'a [u8]) -> Buffer<'a> {
        Buffer {
            rest: data,
            out: None,
            base: data.len(),
            writing: false,
            depth: 0,
            error: None,
        }
    }

    /// True when this buffer unpacks values.
    #[inline]
    pub fn is_reading(&self) -> bool {
        !self.writing
    }

    /// True when this buffer packs values.
    #[inline]
    pub fn is_writing(&self) -> bool {
        self.writing
    }

    /// The first error recorded, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// True while no error has been recorded.
    #[inline]
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    /// Bytes written or read so far by this buffer.
    #[inline]
    pub fn position(&self) -> usize {
        match &self.out {
            Some(out) => out.len() - self.base,
            None => self.base - self.rest.len(),
        }
    }

    /// Bytes not yet read (always 0 for a writer).
    #[inline]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Records that the value being packed or unpacked is invalid.
    ///
    /// Use it in a pack function to reject a value the type allows but the
    /// format does not; the first recorded error wins.
    ///
    /// ```
    /// fn even(n: &mut u8, buf: &mut vpack::Buffer) {
    ///     vpack::byte(n, buf);
    ///     if *n % 2 == 1 {
    ///         buf.fail("odd number");
    ///     }
    /// }
    /// assert!(vpack::from_bytes(&[3], even).is_err());
    /// assert!(vpack::to_bytes(&mut 3, even).is_err());
    /// ```
    pub fn fail(&mut self, reason: &'static str) {
        self.fail_kind(ErrorKind::Invalid(reason));
    }

    /// Ends the buffer: the first error, or the number of bytes processed.
    /// A reader also fails if input bytes are left over.
    #[inline]
    pub fn finish(self) -> Result<usize, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let at = self.position();
        match self.rest.len() {
            0 => Ok(at),
            left => Err(Error::new(ErrorKind::TrailingBytes(left), at)),
        }
    }

    /// Records that an enum's tag, read at byte `at`, names none of its
    /// variants ([`ErrorKind::UnknownTag`]). For enum pack functions; the
    /// first recorded error wins.
    ///
    /// ```
    /// #[derive(Debug, PartialEq)]
    /// enum Shape { Dot, Circle(u32) }
    ///
    /// fn pack_shape(s: &mut Shape, buf: &mut vpack::Buffer) {
    ///     let at = buf.position();
    ///     let mut tag = match s { Shape::Dot => 1u32, Shape::Circle(_) => 2 };
    ///     vpack::uint(&mut tag, buf);
    ///     match (tag, buf.is_reading()) {
    ///         (1, true) => *s = Shape::Dot,
    ///         (2, true) => *s = Shape::Circle(0),
    ///         (1 | 2, false) => {}
    ///         _ => return buf.fail_unknown_tag("Shape", tag, at),
    ///     }
    ///     if let Shape::Circle(r) = s {
    ///         vpack::uint(r, buf);
    ///     }
    /// }
    ///
    /// let mut s = Shape::Circle(5);
    /// let bytes = vpack::to_bytes(&mut s, pack_shape)?;
    /// assert_eq!(bytes, [2, 5]);
    /// let mut r = vpack::Buffer::reader(&[9]);
    /// pack_shape(&mut s, &mut r);
    /// assert_eq!(r.finish().unwrap_err().to_string(), "Shape has no variant with tag 9 at byte 0");
    /// # Ok::<(), vpack::Error>(())
    /// ```
    #[cold]
    pub fn fail_unknown_tag(&mut self, type_name: &'static str, tag: u32, at: usize) {
        self.fail_at(ErrorKind::UnknownTag { type_name, tag }, at);
    }

    /// Where this buffer is now, for [`Buffer::since`].
    #[inline]
    pub(crate) fn mark(&self) -> Mark<'a> {
        match &self.out {
            Some(out) => Mark::Write(out.len()),
            None => Mark::Read(self.rest),
        }
    }

    /// The bytes written or read since `mark` (empty after a failure).
    #[inline]
    pub(crate) fn since(&self, mark: &Mark<'a>) -> &[u8] {
        match (mark, &self.out) {
            (Mark::Write(start), Some(out)) => out.get(*start..).unwrap_or(&[]),
            (Mark::Read(before), None) if self.error.is_none() => {
                &before[..before.len() - self.rest.len()]
            }
            _ => &[],
        }
    }

    #[cold]
    pub(crate) fn fail_kind(&mut self, kind: ErrorKind) {
        let at = self.position();
        self.fail_at(kind, at);
    }

    /// Records an error located at byte `at` rather than the current
    /// position, and stops the buffer: no byte is read or written after it.
    #[cold]
    pub(crate) fn fail_at(&mut self, kind: ErrorKind, at: usize) {
        if self.error.is_some() {
            return;
        }
        self.error = Some(Error::new(kind, at));
        // Freeze the position where it is, then cut off input and output.
        self.base = self.position();
        self.rest = &[];
        self.out = None;
    }

    /// The output vector, when writing and no error has been recorded.
    #[inline]
    pub(crate) fn out(&mut self) -> Option<&mut Vec<u8>> {
        self.out.as_deref_mut()
    }

    /// Takes the next `n` input bytes, or records `UnexpectedEnd`.
    /// Returns `None` for a writer or a failed buffer.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        match self.rest.split_at_checked(n) {
            Some((bytes, rest)) => {
                self.rest = rest;
                Some(bytes)
            }
            None => {
                if !self.writing {
                    self.fail_kind(ErrorKind::UnexpectedEnd);
                }
                None
            }
        }
    }

    /// Takes `N` input bytes as an array.
    #[inline]
    pub(crate) fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).map(|b| {
            let mut a = [0u8; N];
            a.copy_from_slice(b);
            a
        })
    }

    /// The unread input (empty for a writer or a failed buffer).
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Moves the read position forward by `n` bytes already inspected via
    /// `rest` (`n` is at most `rest().len()`).
    #[inline]
    pub(crate) fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Enters one more level of nesting; false (and the buffer failed) past
    /// [`MAX_DEPTH`].
    #[inline]
    pub(crate) fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.fail_kind(ErrorKind::TooDeep(MAX_DEPTH));
            return false;
        }
        self.depth += 1;
        true
    }

    /// Leaves a level entered with [`enter`](Buffer::enter).
    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Checks a length prefix against the bytes left, assuming every element
    /// takes at least one byte; this bounds allocation by the input size.
    #[inline]
    pub(crate) fn check_len(&mut self, len: u64, at: usize) -> Option<usize> {
        let remaining = self.remaining();
        if len > remaining as u64 {
            self.fail_at(ErrorKind::LengthExceedsInput { len, remaining }, at);
            return None;
        }
        Some(len as usize)
    }
}

/// Packs `value` into a new byte vector.
///
/// ```
/// let bytes = vpack::to_bytes(&mut String::from("hi"), vpack::string).unwrap();
/// assert_eq!(bytes, [0x04, b'h', b'i']);
/// ```
pub fn to_bytes<T>(
    value: &mut T,
    pack: impl FnOnce(&mut T, &mut Buffer),
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut buf = Buffer::writer(&mut out);
    pack(value, &mut buf);
    buf.finish()?;
    Ok(out)
}

/// Packs `value`, appending to `out`. On failure `out` is restored to its
/// previous length, so no partial bytes are left behind.
///
/// ```
/// let mut out = vec![0xAA];
/// vpack::append_bytes(&mut 7u32, vpack::fuint, &mut out).unwrap();
/// assert_eq!(out, [0xAA, 0, 0, 0, 7]);
/// ```
pub fn append_bytes<T>(
    value: &mut T,
    pack: impl FnOnce(&mut T, &mut Buffer),
    out: &mut Vec<u8>,
) -> Result<usize, Error> {
    let len = out.len();
    let mut buf = Buffer::writer(out);
    pack(value, &mut buf);
    let result = buf.finish();
    if result.is_err() {
        out.truncate(len);
    }
    result
}

/// How many of `len` claimed items of type `T` may be reserved up front
/// when `remaining` input bytes are left: no more than those bytes' worth
/// of memory. A length prefix is checked against the bytes left (every item
/// takes at least one byte), but an item can be far larger in memory than
/// on the wire; beyond this bound the collection grows as items actually
/// decode.
#[inline]
pub(crate) fn reservable<T>(len: usize, remaining: usize) -> usize {
    len.min(remaining / size_of::<T>().max(1))
}

/// Empties `v` and makes room for `len` items of which the input can hold
/// `remaining` bytes' worth (see [`reservable`]). When the current allocation
/// is too small (always, for a fresh value) it is replaced by a new one: the
/// direct allocation path, cheaper than growing an empty vector.
#[inline]
pub(crate) fn reset_for<T>(v: &mut Vec<T>, len: usize, remaining: usize) {
    let want = reservable::<T>(len, remaining);
    if v.capacity() < want {
        *v = Vec::with_capacity(want);
    } else {
        v.clear();
    }
}

/// Unpacks a `T` from `bytes`, starting from `T::default()`.
///
/// Fails on malformed input and on bytes left over after the value.
///
/// ```
/// let n: u64 = vpack::from_bytes(&[0x80, 0x01], vpack::uint).unwrap();
/// assert_eq!(n, 128);
/// let err = vpack::from_bytes::<u64>(&[0x80], vpack::uint).unwrap_err();
/// assert_eq!(err.kind(), &vpack::ErrorKind::UnexpectedEnd);
/// ```
pub fn from_bytes<T: Default>(
    bytes: &[u8],
    pack: impl FnOnce(&mut T, &mut Buffer),
) -> Result<T, Error> {
    from_bytes_start(bytes, T::default(), pack)
}

/// [`from_bytes`] for any type: unpacks a `T` from `bytes`, starting from
/// `value` (for a type without `Default`, such as `SystemTime`, or a start
/// other than the default).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let bytes = [0, 0, 0, 0, 0, 0, 0x03, 0xe8]; // 1,000 ms, as a key
/// let t = vpack::from_bytes_start(&bytes, UNIX_EPOCH, vpack::unix_time_milli_key)?;
/// assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1));
/// # Ok::<(), vpack::Error>(())
/// ```
#[inline]
pub fn from_bytes_start<T>(
    bytes: &[u8],
    mut value: T,
    pack: impl FnOnce(&mut T, &mut Buffer),
) -> Result<T, Error> {
    let mut buf = Buffer::reader(bytes);
    pack(&mut value, &mut buf);
    buf.finish()?;
    Ok(value)
}

/// Unpacks `bytes` into `*value`, returning whether it succeeded.
///
/// On success `*value` is replaced by a freshly unpacked value; on failure it
/// is left exactly as it was.
///
/// ```
/// let mut n = 5i32;
/// assert!(vpack::from_bytes_into(&[0x02], &mut n, vpack::int));
/// assert_eq!(n, 1);
/// assert!(!vpack::from_bytes_into(&[], &mut n, vpack::int));
/// assert_eq!(n, 1);
/// ```
pub fn from_bytes_into<T: Default>(
    bytes: &[u8],
    value: &mut T,
    pack: impl FnOnce(&mut T, &mut Buffer),
) -> bool {
    match from_bytes(bytes, pack) {
        Ok(v) => {
            *value = v;
            true
        }
        Err(_) => false,
    }
}
