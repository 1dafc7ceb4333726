//! Windows over ordered entries: [`Direction`], [`Window`] and the opaque
//! pagination [`Cursor`].
//!
//! A window selects a page of an index term's targets (see [`Window`] for
//! the rules). A cursor is a keyset position, not a count: walking a term
//! page by page returns every target that stays in the term exactly once,
//! in order, even while other targets are added or removed between pages.

use std::fmt;
use std::str::FromStr;

/// Which way to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Direction {
    /// Ascending order.
    #[default]
    Forward,
    /// Descending order.
    Reverse,
}

/// Which page of a term's targets to read, built step by step.
///
/// - **Order**: ascending `(priority, target)`, or descending with
///   [`reverse`](Window::reverse).
/// - **Size**: every target by default; at most `n` with
///   [`limit(n)`](Window::limit). A limit of 0 reads nothing (it never
///   means "unlimited").
/// - **Start**: the first target, or just after a previous page's last
///   target with [`after(cursor)`](Window::after), or after skipping `n`
///   targets with [`offset(n)`](Window::offset) (its cost grows with `n`;
///   a cursor costs nothing extra). With a cursor the offset is ignored.
///
/// Reading a page returns the cursor of the next one: `None` exactly when
/// no target follows the page. A cursor given for another index or term,
/// or one vbolt never made, is refused with
/// [`Error::InvalidCursor`](crate::Error::InvalidCursor), never read as an
/// empty page.
///
/// ```
/// use vbolt::{Direction, Window};
/// // The newest 30 (priorities ascending with time, so walk in reverse):
/// let w = Window::new().limit(30).reverse();
/// assert_eq!(w.get_limit(), Some(30));
/// assert_eq!(w.get_direction(), Direction::Reverse);
/// assert_eq!(Window::new().get_limit(), None); // every target
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    limit: Option<usize>,
    offset: usize,
    cursor: Option<Cursor>,
    direction: Direction,
}

impl Window {
    /// Every target, in ascending order, from the first.
    pub fn new() -> Window {
        Window::default()
    }

    /// At most `n` targets (0 reads none).
    pub fn limit(mut self, n: usize) -> Window {
        self.limit = Some(n);
        self
    }

    /// Skips `n` targets first (ignored when a cursor is set).
    pub fn offset(mut self, n: usize) -> Window {
        self.offset = n;
        self
    }

    /// Continues after the position `cursor` marks (the cursor returned
    /// with the previous page).
    pub fn after(mut self, cursor: Cursor) -> Window {
        self.cursor = Some(cursor);
        self
    }

    /// Sets or clears the cursor (a client may or may not send one).
    pub fn cursor(mut self, cursor: Option<Cursor>) -> Window {
        self.cursor = cursor;
        self
    }

    /// Walks in descending order.
    pub fn reverse(self) -> Window {
        self.direction(Direction::Reverse)
    }

    /// Walks in `direction`.
    pub fn direction(mut self, direction: Direction) -> Window {
        self.direction = direction;
        self
    }

    /// The limit, `None` for every target.
    pub fn get_limit(&self) -> Option<usize> {
        self.limit
    }

    /// The offset.
    pub fn get_offset(&self) -> usize {
        self.offset
    }

    /// The cursor, if set.
    pub fn get_cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    /// The direction.
    pub fn get_direction(&self) -> Direction {
        self.direction
    }
}

/// An opaque pagination position within one index term.
///
/// It converts to and from a URL-safe base64 string, so a web application
/// can hand it to a client and take it back. A cursor only ever applies to
/// the index and term it came from: given with another term or index, or
/// damaged or made up, reading with it fails with
/// [`Error::InvalidCursor`](crate::Error::InvalidCursor). (The check is a
/// 64-bit tag, not a secret: it tells cursors apart, it does not
/// authenticate them. A cursor made up to look right positions the read
/// somewhere within the same term, never outside it.)
///
/// ```
/// use vbolt::Cursor;
/// let text = "AQ"; // some client-provided string
/// match text.parse::<Cursor>() {
///     Ok(cursor) => assert_eq!(cursor.to_string(), text),
///     Err(_) => unreachable!(),
/// }
/// assert!("not base64!".parse::<Cursor>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor(pub(crate) Vec<u8>);

impl Cursor {
    /// The cursor's raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A cursor from raw bytes (as produced by [`as_bytes`](Cursor::as_bytes)).
    pub fn from_bytes(bytes: &[u8]) -> Cursor {
        Cursor(bytes.to_vec())
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

/// Why a string is not a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorParseError;

impl fmt::Display for CursorParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a cursor: expected non-empty, unpadded URL-safe base64")
    }
}

impl std::error::Error for CursorParseError {}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn sextet(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

impl fmt::Display for Cursor {
    /// Unpadded URL-safe base64 (RFC 4648 §5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(self.0.len().div_ceil(3) * 4);
        for chunk in self.0.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        f.write_str(&out)
    }
}

impl FromStr for Cursor {
    type Err = CursorParseError;

    /// Parses unpadded URL-safe base64; rejects the empty string (no
    /// cursor vbolt makes is empty: a missing cursor is `None`, not `""`),
    /// other characters, impossible lengths and non-zero leftover bits (so
    /// each cursor has one spelling).
    fn from_str(s: &str) -> Result<Cursor, CursorParseError> {
        let s = s.as_bytes();
        if s.is_empty() || s.len() % 4 == 1 {
            return Err(CursorParseError);
        }
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        for chunk in s.chunks(4) {
            let mut n = 0u32;
            for &c in chunk {
                n = (n << 6) | sextet(c).ok_or(CursorParseError)?;
            }
            let bytes = chunk.len() * 6 / 8;
            let spare = chunk.len() * 6 - bytes * 8;
            if n & ((1 << spare) - 1) != 0 {
                return Err(CursorParseError);
            }
            n >>= spare;
            for i in (0..bytes).rev() {
                out.push((n >> (8 * i)) as u8);
            }
        }
        Ok(Cursor(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for len in 1..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let c = Cursor(bytes.clone());
            let text = c.to_string();
            assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(text.parse::<Cursor>().unwrap().0, bytes);
        }
    }

    #[test]
    fn base64_matches_the_standard() {
        // The UUID text form from the Go vectors: ABEiM0RVZneImaq7zN3u_w
        let bytes: Vec<u8> = (0..16).map(|i| i * 0x11).collect();
        assert_eq!(Cursor(bytes).to_string(), "ABEiM0RVZneImaq7zN3u_w");
        assert_eq!(Cursor(b"f".to_vec()).to_string(), "Zg");
        assert_eq!(Cursor(b"fo".to_vec()).to_string(), "Zm8");
        assert_eq!(Cursor(b"foo".to_vec()).to_string(), "Zm9v");
    }

    #[test]
    fn bad_cursor_strings_are_rejected() {
        for bad in ["", "A", "AB=", "A+B/", "Zh", "Zm9", "Zm8=", "é", "ABCDE"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }
}
