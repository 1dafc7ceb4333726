//! Table identity, independent of any engine: a table's kind and declared
//! name, its engine-level name, and its slot in a transaction's cache.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// What a table holds; the prefix of its engine-level name keeps a bucket
/// and an index of the same name apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// A bucket: key -> value.
    Bucket,
    /// An index's term entries: term priority target -> priority length.
    IndexTerms,
    /// An index's target entries: target term -> priority.
    IndexTargets,
    /// An index's counts: term -> number of targets.
    IndexCounts,
    /// vbolt's own bookkeeping (sequences, processes).
    Meta,
}

impl TableKind {
    fn prefix(self) -> &'static str {
        match self {
            TableKind::Bucket => "bucket:",
            TableKind::IndexTerms => "index:",
            TableKind::IndexTargets => "index-targets:",
            TableKind::IndexCounts => "index-counts:",
            TableKind::Meta => "vbolt:",
        }
    }
}

/// The identity of a table: its kind and name, and a process-wide slot
/// number assigned on first use (tables of the same full name share it).
pub struct TableId {
    kind: TableKind,
    name: &'static str,
    resolved: OnceLock<Resolved>,
}

/// What a [`TableId`] learns on first use.
struct Resolved {
    slot: usize,
    full_name: Box<str>,
    name_hash: u64,
}

/// Continues a 64-bit FNV-1a hash over `bytes` (start from [`FNV_SEED`]).
pub(crate) fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The FNV-1a offset basis.
pub(crate) const FNV_SEED: u64 = 0xcbf2_9ce4_8422_2325;

fn registry() -> &'static Mutex<HashMap<Box<str>, usize>> {
    static REGISTRY: OnceLock<Mutex<HashMap<Box<str>, usize>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

impl TableId {
    /// A table id; usable in `static` declarations.
    pub const fn new(kind: TableKind, name: &'static str) -> TableId {
        TableId {
            kind,
            name,
            resolved: OnceLock::new(),
        }
    }

    /// The declared (user-facing) name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What the table holds.
    pub fn kind(&self) -> TableKind {
        self.kind
    }

    #[inline]
    fn resolved(&self) -> &Resolved {
        match self.resolved.get() {
            Some(r) => r,
            None => self.resolve(),
        }
    }

    /// First use of this id in the process: assigns its slot.
    #[cold]
    #[inline(never)]
    fn resolve(&self) -> &Resolved {
        self.resolved.get_or_init(|| {
            let full: Box<str> = format!("{}{}", self.kind.prefix(), self.name).into();
            let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
            let next = map.len();
            let slot = *map.entry(full.clone()).or_insert(next);
            let name_hash = fnv1a(fnv1a(FNV_SEED, full.as_bytes()), &[0xFF]);
            Resolved {
                slot,
                full_name: full,
                name_hash,
            }
        })
    }

    /// The slot of this table in a transaction's table cache.
    #[inline]
    pub fn slot(&self) -> usize {
        self.resolved().slot
    }

    /// The engine-level name.
    pub fn full_name(&self) -> &str {
        &self.resolved().full_name
    }

    /// FNV-1a of the engine-level name and a 0xFF separator: the start of
    /// hashes that bind something (a cursor) to this table.
    pub(crate) fn name_hash(&self) -> u64 {
        self.resolved().name_hash
    }
}

/// The table holding per-table sequences: key = full table name, value =
/// 8-byte big-endian counter.
pub static SEQUENCES: TableId = TableId::new(TableKind::Meta, "sequences");
