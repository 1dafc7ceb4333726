//! The one error type of vpack: what went wrong, and at which byte.

use std::fmt;

/// Why packing or unpacking failed, and where.
///
/// The offset is the byte position in the buffer where the failing value
/// started (for a reader) or where it would have been written (for a writer).
///
/// ```
/// let err = vpack::from_bytes(&[0x02], vpack::bool).unwrap_err();
/// assert_eq!(err.kind(), &vpack::ErrorKind::InvalidBool(2));
/// assert_eq!(err.offset(), 0);
/// assert_eq!(err.to_string(), "invalid bool byte 0x02 at byte 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: usize,
}

/// The reason a value could not be packed or unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended before the value did.
    UnexpectedEnd,
    /// A varint ran past the longest encoding its width allows.
    VarintTooLong,
    /// A varint had redundant trailing zero groups; every number has exactly
    /// one accepted encoding.
    VarintOverlong,
    /// A number decoded fine but does not fit the type it is read into.
    OutOfRange,
    /// A bool byte other than 0 or 1.
    InvalidBool(u8),
    /// String bytes that are not UTF-8.
    InvalidUtf8,
    /// A code point that is not a Unicode scalar value.
    InvalidChar(i64),
    /// A negative length prefix.
    NegativeLength,
    /// A length prefix that claims more elements than there are bytes left.
    LengthExceedsInput {
        /// The length the prefix claimed.
        len: u64,
        /// The bytes left in the input.
        remaining: usize,
    },
    /// A NUL-terminated string without its terminating NUL.
    MissingNul,
    /// Writing a NUL-terminated string that contains a NUL byte.
    NulInString,
    /// A time outside what the encoding or `SystemTime` can represent.
    TimeOutOfRange,
    /// The data was written by a newer version of the pack function.
    NewerVersion {
        /// The version found in the data.
        stored: u32,
        /// The newest version this code knows.
        current: u32,
    },
    /// A [`checked`](crate::checked) value's bytes do not match the
    /// checksum stored after them: they changed since they were written.
    ChecksumMismatch {
        /// The checksum stored after the value.
        stored: u32,
        /// The checksum of the value's bytes as read.
        computed: u32,
    },
    /// A map contained the same key twice.
    DuplicateKey,
    /// A map's keys are not in ascending order (each map has one byte form:
    /// its entries sorted by key).
    KeysOutOfOrder,
    /// Collections nested deeper than the limit (the limit is given).
    TooDeep(u32),
    /// An enum's tag that none of its variants has (data from a newer
    /// program, or damage).
    UnknownTag {
        /// The enum being read.
        type_name: &'static str,
        /// The tag found in the data.
        tag: u32,
    },
    /// Bytes were left over after the value was read.
    TrailingBytes(usize),
    /// A pack function rejected the value, with its reason.
    Invalid(&'static str),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Error {
        Error { kind, offset }
    }

    /// The reason for the failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The byte position at which the failing value starts.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedEnd => f.write_str("input ended inside a value"),
            ErrorKind::VarintTooLong => f.write_str("varint too long for its width"),
            ErrorKind::VarintOverlong => f.write_str("varint not in its shortest form"),
            ErrorKind::OutOfRange => f.write_str("number out of range for its type"),
            ErrorKind::InvalidBool(b) => write!(f, "invalid bool byte 0x{b:02x}"),
            ErrorKind::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            ErrorKind::InvalidChar(c) => write!(f, "invalid char code point {c}"),
            ErrorKind::NegativeLength => f.write_str("negative length"),
            ErrorKind::LengthExceedsInput { len, remaining } => {
                write!(f, "length {len} exceeds the {remaining} bytes left")
            }
            ErrorKind::MissingNul => f.write_str("NUL-terminated string has no NUL"),
            ErrorKind::NulInString => f.write_str("NUL byte inside a NUL-terminated string"),
            ErrorKind::TimeOutOfRange => f.write_str("time out of range"),
            ErrorKind::NewerVersion { stored, current } => write!(
                f,
                "data has version {stored}, newer than the supported version {current}"
            ),
            ErrorKind::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:08x}, computed {computed:08x}): the bytes \
                 changed since they were written"
            ),
            ErrorKind::DuplicateKey => f.write_str("duplicate map key"),
            ErrorKind::KeysOutOfOrder => f.write_str("map keys out of ascending order"),
            ErrorKind::TooDeep(limit) => {
                write!(f, "collections nested more than {limit} deep")
            }
            ErrorKind::UnknownTag { type_name, tag } => {
                write!(f, "{type_name} has no variant with tag {tag}")
            }
            ErrorKind::TrailingBytes(n) => write!(f, "{n} trailing bytes after the value"),
            ErrorKind::Invalid(why) => write!(f, "invalid value: {why}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for Error {}
