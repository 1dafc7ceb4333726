//! The keys the two hand-written programs (raw redb and LMDB) build by
//! hand: the table layout of a vbolt index (docs/ARCHITECTURE.md, "Key
//! layout"), every field a fixed-width big-endian integer, so that byte
//! order is numeric order.

/// What a term entry's value holds: the byte lengths of its term and
/// priority, as vbolt writes them.
pub const TERM_VALUE: [u8; 2] = [8, 8];

/// Order-preserving bytes of a signed integer (the sign bit flipped).
pub fn ord(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// A term entry's key: `category | published (ord) | id`.
pub fn term_key(category: i64, published: i64, id: i64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&category.to_be_bytes());
    key[8..16].copy_from_slice(&ord(published));
    key[16..].copy_from_slice(&id.to_be_bytes());
    key
}

/// The article id at the end of a term entry's key.
pub fn term_target(key: &[u8]) -> i64 {
    i64::from_be_bytes(key[16..24].try_into().unwrap())
}

/// The bounds of one category's term entries: from its own bytes
/// (included) to the next category's (excluded).
pub fn term_range(category: i64) -> ([u8; 8], [u8; 8]) {
    (category.to_be_bytes(), (category + 1).to_be_bytes())
}

/// A target entry's key: `id | category`; its value is the priority.
pub fn target_key(id: i64, category: i64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&id.to_be_bytes());
    key[8..].copy_from_slice(&category.to_be_bytes());
    key
}

/// A stored count (none stored: 0).
pub fn count_of(value: Option<&[u8]>) -> u64 {
    value.map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
}
