//! The bytes of the write-ahead log: two header slots, then records.
//!
//! ```text
//! 0     header slot A (44 bytes)      magic, version, epoch, owner, crc
//! 512   header slot B (44 bytes)      the same, written after A is synced
//! 4096  records, each:
//!         crc32   u32   over the rest of the record header and the payload
//!         kind    u32   1 write, 2 set length, 3 sync
//!         epoch   u64   the header's epoch when the record was written
//!         arg     u64   the write's offset, or the new length
//!         len     u64   the payload's length (writes only)
//!         payload
//! ```
//!
//! Every integer is little-endian. A record counts only if its checksum
//! holds and its epoch is the header's: a checkpoint raises the epoch, so
//! the records an older epoch left further down the file read as the end.

/// The first bytes of a header slot.
pub(super) const MAGIC: [u8; 8] = *b"vboltwal";
/// The format's version.
pub(super) const VERSION: u32 = 1;
/// Where the two header slots are: each in its own disk sector, and
/// written one after the other with a sync between, so a torn write
/// damages at most one of them.
pub(super) const SLOTS: [u64; 2] = [0, 512];
/// The length of a header slot.
pub(super) const SLOT_LEN: usize = 44;
/// Where the records begin.
pub(super) const RECORDS_START: u64 = 4096;
/// The length of a record's header.
pub(super) const RECORD_HEADER: usize = 32;

/// What a record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `len` bytes of payload, to be written at `arg` in the main file.
    Write = 1,
    /// The main file's length becomes `arg`.
    SetLen = 2,
    /// Every record since the previous sync belongs to a durable commit.
    Sync = 3,
}

impl Kind {
    fn from_u32(v: u32) -> Option<Kind> {
        match v {
            1 => Some(Kind::Write),
            2 => Some(Kind::SetLen),
            3 => Some(Kind::Sync),
            _ => None,
        }
    }
}

/// A header slot's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    /// Raised by every checkpoint.
    pub epoch: u64,
    /// The main file the records belong to (its inode number): a log left
    /// beside another file is never replayed into it.
    pub owner: u64,
}

impl Header {
    pub(super) fn encode(&self) -> [u8; SLOT_LEN] {
        let mut b = [0u8; SLOT_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[16..24].copy_from_slice(&self.epoch.to_le_bytes());
        b[24..32].copy_from_slice(&self.owner.to_le_bytes());
        let crc = crc32fast::hash(&b[..40]);
        b[40..44].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// The header in `b`, or why it is not one.
    pub(super) fn decode(b: &[u8]) -> Result<Header, &'static str> {
        if b.len() < SLOT_LEN || b[..8] != MAGIC {
            return Err("no log header");
        }
        if crc32fast::hash(&b[..40]) != u32_at(b, 40) {
            return Err("a header checksum mismatch");
        }
        if u32_at(b, 8) != VERSION {
            return Err("an unknown log version");
        }
        Ok(Header {
            epoch: u64_at(b, 16),
            owner: u64_at(b, 24),
        })
    }
}

/// A record's header, as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordHeader {
    pub crc: u32,
    pub kind: Kind,
    pub epoch: u64,
    pub arg: u64,
    pub len: u64,
}

impl RecordHeader {
    /// The record header in `b`, or `None` for bytes that are not one (a
    /// kind that does not exist).
    pub(super) fn decode(b: &[u8; RECORD_HEADER]) -> Option<RecordHeader> {
        Some(RecordHeader {
            crc: u32_at(b, 0),
            kind: Kind::from_u32(u32_at(b, 4))?,
            epoch: u64_at(b, 8),
            arg: u64_at(b, 16),
            len: u64_at(b, 24),
        })
    }
}

/// Appends a record to `out`, its checksum over its header and `payload`.
pub(super) fn push_record(out: &mut Vec<u8>, kind: Kind, epoch: u64, arg: u64, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(kind as u32).to_le_bytes());
    out.extend_from_slice(&epoch.to_le_bytes());
    out.extend_from_slice(&arg.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start + 4..]);
    out[start..start + 4].copy_from_slice(&crc.to_le_bytes());
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_reads_back_and_any_flipped_bit_is_refused() {
        let h = Header {
            epoch: 7,
            owner: 12345,
        };
        let b = h.encode();
        assert_eq!(Header::decode(&b), Ok(h));
        for bit in 0..SLOT_LEN * 8 {
            let mut bad = b;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(Header::decode(&bad).is_err(), "bit {bit}");
        }
        assert!(Header::decode(&b[..SLOT_LEN - 1]).is_err());
        assert!(Header::decode(&[0; SLOT_LEN]).is_err());
    }

    #[test]
    fn a_record_carries_its_fields_and_its_checksum_covers_them() {
        let mut out = vec![9u8; 3];
        push_record(&mut out, Kind::Write, 4, 8192, b"page");
        let rec = &out[3..];
        assert_eq!(rec.len(), RECORD_HEADER + 4);
        let head: [u8; RECORD_HEADER] = rec[..RECORD_HEADER].try_into().unwrap();
        let h = RecordHeader::decode(&head).unwrap();
        assert_eq!((h.kind, h.epoch, h.arg, h.len), (Kind::Write, 4, 8192, 4));
        assert_eq!(h.crc, crc32fast::hash(&rec[4..]));
        let mut other = head;
        other[4] = 9;
        assert_eq!(RecordHeader::decode(&other), None);
    }
}
