//! The systems compared. Each does the same logical work on its own storage,
//! the way a competent user of that system would write it.

#[cfg(feature = "etcd")]
mod etcd;
mod hand_keys;
mod lmdb;
mod native_db;
mod raw_redb;
mod sqlite;
mod vbolt;

use std::path::Path;

use crate::workload::Article;

pub use self::lmdb::Lmdb;
pub use self::native_db::NativeDb;
pub use self::raw_redb::{RawRedb, SliceKeys, WordKeys};
pub use self::sqlite::{Mapped, Sqlite};
pub use self::vbolt::Vbolt;

/// The systems run by default, in table order (vbolt first: ratios are
/// taken against it).
pub const DEFAULT: [&str; 7] = [
    "vbolt",
    "raw redb",
    "raw redb (memcmp)",
    "SQLite",
    "SQLite (mmap)",
    "native_db",
    "LMDB",
];

/// The systems on an etcd cluster (feature `etcd`), chosen with
/// `--systems vbolt-etcd,raw-etcd`; use `--network`: a round trip per read.
#[cfg(feature = "etcd")]
pub const ON_ETCD: [&str; 2] = ["vbolt (etcd)", "raw etcd"];
#[cfg(not(feature = "etcd"))]
pub const ON_ETCD: [&str; 0] = [];

/// Variants run only when asked for with `--systems`: vbolt with 1,000
/// live commit subscriptions (`--systems vbolt,vbolt-1k-subscribers`), for
/// what commit notifications cost, and, with the feature `checked-values`,
/// vbolt with a CRC-32 after every stored article (`vbolt-checked-values`,
/// `vpack::checked`), for what detecting damaged values on every read
/// costs. That variant is a feature because a second instantiation of the
/// vbolt system changes how the compiler inlines the first: callgrind
/// counts 0.5-1.5% more instructions for plain vbolt's reads when both are
/// in the binary, so the default build leaves it out.
/// `vbolt-batch` is vbolt whose concurrent writers use `Db::batch` (closures
/// that own their data, run by whichever thread holds the group's
/// transaction); its other figures are plain vbolt's. `vbolt-wal` commits
/// through vbolt's write-ahead log (`Options::write_ahead_log`), and
/// `vbolt-wal-batch` also writes through `Db::batch`.
#[cfg(not(feature = "checked-values"))]
pub const OPTIONAL: [&str; 4] = [
    "vbolt (1k subscribers)",
    "vbolt (batch)",
    "vbolt (wal)",
    "vbolt (wal, batch)",
];
#[cfg(feature = "checked-values")]
pub const OPTIONAL: [&str; 5] = [
    "vbolt (1k subscribers)",
    "vbolt (batch)",
    "vbolt (wal)",
    "vbolt (wal, batch)",
    "vbolt (checked values)",
];

/// Every system this build knows: the default ones, [`OPTIONAL`], then
/// [`ON_ETCD`].
pub fn names() -> impl Iterator<Item = &'static str> {
    DEFAULT.into_iter().chain(OPTIONAL).chain(ON_ETCD)
}

/// Opens the system called `name` with its files in `dir`.
pub fn open(name: &str, dir: &Path) -> Box<dyn System> {
    match name {
        "vbolt" => Box::new(Vbolt::<false>::open(dir)),
        "vbolt (1k subscribers)" => Box::new(Vbolt::<false>::with_subscribers(dir, 1000)),
        "vbolt (batch)" => Box::new(Vbolt::<false>::with_batch(dir)),
        "vbolt (wal)" => Box::new(Vbolt::<false>::with_wal(dir, false)),
        "vbolt (wal, batch)" => Box::new(Vbolt::<false>::with_wal(dir, true)),
        #[cfg(feature = "checked-values")]
        "vbolt (checked values)" => Box::new(Vbolt::<true>::open(dir)),
        "raw redb" => Box::new(RawRedb::<WordKeys>::open(dir)),
        "raw redb (memcmp)" => Box::new(RawRedb::<SliceKeys>::open(dir)),
        "SQLite" => Box::new(Sqlite::open(dir, Mapped::No)),
        "SQLite (mmap)" => Box::new(Sqlite::open(dir, Mapped::Yes)),
        "native_db" => Box::new(NativeDb::open(dir)),
        "LMDB" => Box::new(Lmdb::open(dir)),
        #[cfg(feature = "etcd")]
        "vbolt (etcd)" => Box::new(Vbolt::<false>::on_etcd()),
        #[cfg(feature = "etcd")]
        "raw etcd" => Box::new(etcd::RawEtcd::open()),
        other => panic!(
            "unknown system {other:?}; known: {:?}",
            names().collect::<Vec<_>>()
        ),
    }
}

/// One system under test. Every read method returns a checksum of what it
/// read, so the harness can check that all systems gave the same answers.
pub trait System: Sync {
    /// Writes `articles` with their index entries and counts in one durable
    /// transaction.
    fn write(&self, articles: &[Article]);
    /// Reads and decodes each id, all in one read transaction.
    fn point_reads(&self, ids: &[i64]) -> u64;
    /// Reads and decodes each id, each in its own read transaction.
    fn point_reads_tx(&self, ids: &[i64]) -> u64;
    /// For each category: the newest 30 article ids, then those articles.
    fn page_queries(&self, categories: &[i64]) -> u64;
    /// For each category: its article count.
    fn counts(&self, categories: &[i64]) -> u64;
    /// A reader another thread can use while this system is being written.
    fn reader(&self) -> Box<dyn Reader + '_>;
    /// A writer for one of many threads that write at once, when the
    /// system has its own way to take concurrent writers (a connection per
    /// thread, a group commit); `None`: the threads share [`System::write`].
    fn writer(&self) -> Option<Box<dyn Writer + '_>> {
        None
    }
}

/// A writing handle for one thread of the writers figure.
pub trait Writer: Send {
    /// Writes one article with its index entries and counts in one durable
    /// transaction.
    fn commit(&mut self, article: &Article);
}

/// The writer of a system without its own: [`System::write`], called from
/// every thread (the system serializes the writers itself).
pub struct SharedWriter<'a>(pub &'a dyn System);

impl Writer for SharedWriter<'_> {
    fn commit(&mut self, article: &Article) {
        self.0.write(std::slice::from_ref(article));
    }
}

/// A reading handle for one thread.
pub trait Reader: Send {
    /// Reads and decodes each id in one read transaction; returns how many
    /// were found with the right id.
    fn read_batch(&mut self, ids: &[i64]) -> usize;
}

/// What a read contributes to a checksum.
pub fn article_sum(a: &Article) -> u64 {
    let cats = a
        .category_ids
        .iter()
        .fold(0u64, |s, c| s.wrapping_mul(101).wrapping_add(*c as u64));
    (a.id as u64).wrapping_mul(31)
        ^ a.published as u64
        ^ (a.author_id as u64) << 20
        ^ cats << 32
        ^ ((a.title.len() + a.body.len()) as u64) << 48
}
