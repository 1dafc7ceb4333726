//! Backup and restore: a consistent copy of the database as one checksummed
//! stream, an atomic restore of such a stream into a new file, and a
//! batched one into an open, empty database (an etcd cluster's).
//!
//! # Format (version 1)
//!
//! All integers are big-endian; `uvarint` is LEB128 (7 bits per byte, low
//! group first); `crc` is CRC-32 (IEEE) of the bytes it follows.
//!
//! ```text
//! header   "VBOLTBAK" | version: u16 = 1 | reserved: u16 = 0 | entries: u64 | crc: u32
//! chunk*   length: u32 | payload: length bytes | crc(payload): u32
//! payload  record*
//! record   0x01 table  uvarint name length | name (UTF-8, the engine table name)
//!          0x02 entry  uvarint key length | key | uvarint value length | value
//!          0x03 end    tables: u64 | entries: u64
//! ```
//!
//! Entries belong to the table record before them. The `end` record is the
//! last record of the last chunk and nothing follows it: a stream without
//! it is truncated. The header's entry count lets a restore report
//! progress; the `end` record's counts must match what was read.

use std::io::{Read, Write};
use std::path::Path;

use super::{Progress, Reporter};
use crate::db::Db;
use crate::engine::{EngineOptions, Store};
use crate::error::Error;
use crate::files::{Mode, Scratch};
use crate::ops::inspect::Role;
use crate::schema::{Declared, Info};

const MAGIC: &[u8; 8] = b"VBOLTBAK";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 24;
const TABLE: u8 = 0x01;
const ENTRY: u8 = 0x02;
const END: u8 = 0x03;
/// A chunk is flushed once its payload reaches this size.
const CHUNK_TARGET: usize = 64 * 1024;
/// The largest chunk a restore accepts (one entry may be large).
const MAX_CHUNK: u32 = 1 << 30;
/// Entries loaded per restore transaction, and the bytes that end a batch
/// early (restore memory stays bounded whatever the backup's size).
pub(super) const BATCH_ENTRIES: usize = 20_000;
pub(super) const BATCH_BYTES: usize = 16 << 20;

/// Which tables a [`backup`] copies.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    tables: Option<Vec<String>>,
}

impl BackupOptions {
    /// Every table (the default).
    pub fn all() -> BackupOptions {
        BackupOptions::default()
    }

    /// Only these declarations (an index brings its three tables), plus
    /// vbolt's own tables (sequences, processes).
    pub fn only(items: &[&dyn Declared]) -> BackupOptions {
        BackupOptions {
            tables: Some(
                items
                    .iter()
                    .flat_map(|item| Info::table_names(*item))
                    .map(str::to_string)
                    .collect(),
            ),
        }
    }

    /// Only these engine tables (as [`tables`](super::tables) lists them),
    /// plus vbolt's own.
    pub fn only_tables(names: impl IntoIterator<Item = impl Into<String>>) -> BackupOptions {
        BackupOptions {
            tables: Some(names.into_iter().map(Into::into).collect()),
        }
    }
}

/// What a backup wrote or a restore read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSummary {
    /// Tables copied.
    pub tables: u64,
    /// Entries copied.
    pub entries: u64,
    /// Bytes of the backup stream.
    pub bytes: u64,
}

fn put_uvarint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Writes chunks with their checksums.
struct ChunkWriter<W: Write> {
    out: W,
    payload: Vec<u8>,
    bytes: u64,
}

impl<W: Write> ChunkWriter<W> {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.payload.is_empty() {
            return Ok(());
        }
        let len = u32::try_from(self.payload.len())
            .map_err(|_| std::io::Error::other("backup chunk over 4 GiB"))?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(&self.payload)?;
        self.out
            .write_all(&crc32fast::hash(&self.payload).to_be_bytes())?;
        self.bytes += 8 + self.payload.len() as u64;
        self.payload.clear();
        Ok(())
    }

    fn record_done(&mut self) -> std::io::Result<()> {
        if self.payload.len() >= CHUNK_TARGET {
            self.flush_chunk()?;
        }
        Ok(())
    }
}

/// Writes a consistent backup of `db` to `out`, from one read snapshot:
/// writers may go on committing meanwhile, and the backup holds exactly
/// the state at its start. Memory use is constant (one chunk).
///
/// `progress` is called as entries are written. A failing `out` (a full
/// disk, a closed pipe) ends the backup with [`Error::Io`].
///
/// ```
/// use vbolt::*;
/// static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
///
/// let db = Db::in_memory()?;
/// db.update(|tx| { write(tx, &NOTES, 1, &mut "hello".into()); Ok::<_, Error>(()) })?;
///
/// let mut stream = Vec::new();
/// let wrote = backup(&db, &mut stream, &BackupOptions::all(), |_| {})?;
///
/// let dir = tempfile::tempdir()?;
/// let copy = dir.path().join("copy.vbolt");
/// let restored = restore(&stream[..], &copy, |_| {})?;
/// assert_eq!(wrote, restored);
/// let copy = Db::open(&copy)?;
/// assert_eq!(get(&copy.read_tx()?, &NOTES, 1)?.as_deref(), Some("hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn backup(
    db: &Db,
    out: impl Write,
    options: &BackupOptions,
    progress: impl FnMut(Progress),
) -> Result<BackupSummary, Error> {
    let tx = db.read_tx()?;
    let snapshot = tx.raw();
    let all = snapshot.table_names()?;
    if let Some(wanted) = &options.tables
        && let Some(missing) = wanted.iter().find(|w| !all.contains(w))
    {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no table {missing:?} in the database"),
        )));
    }
    let chosen: Vec<&String> = all
        .iter()
        .filter(|name| {
            name.starts_with("vbolt:") || options.tables.as_ref().is_none_or(|w| w.contains(name))
        })
        .collect();
    let mut total = 0u64;
    for name in &chosen {
        total += snapshot.table_len(name)?.unwrap_or(0);
    }

    let mut w = ChunkWriter {
        out,
        payload: Vec::with_capacity(CHUNK_TARGET * 2),
        bytes: 0,
    };
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_be_bytes());
    header.extend_from_slice(&0u16.to_be_bytes());
    header.extend_from_slice(&total.to_be_bytes());
    let crc = crc32fast::hash(&header);
    header.extend_from_slice(&crc.to_be_bytes());
    w.out.write_all(&header)?;
    w.bytes += header.len() as u64;

    let mut reporter = Reporter::new(total, progress);
    for name in &chosen {
        let Some(table) = snapshot.open_named(name)? else {
            continue;
        };
        w.payload.push(TABLE);
        put_uvarint(&mut w.payload, name.len() as u64);
        w.payload.extend_from_slice(name.as_bytes());
        let mut io_error = None;
        table.scan(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Unbounded,
            false,
            |k, v| {
                w.payload.push(ENTRY);
                put_uvarint(&mut w.payload, k.len() as u64);
                w.payload.extend_from_slice(k);
                put_uvarint(&mut w.payload, v.len() as u64);
                w.payload.extend_from_slice(v);
                reporter.add(1);
                match w.record_done() {
                    Ok(()) => true,
                    Err(e) => {
                        io_error = Some(e);
                        false
                    }
                }
            },
        )?;
        if let Some(e) = io_error {
            return Err(Error::Io(e));
        }
    }
    let entries = reporter.finish();
    w.payload.push(END);
    w.payload
        .extend_from_slice(&(chosen.len() as u64).to_be_bytes());
    w.payload.extend_from_slice(&entries.to_be_bytes());
    w.flush_chunk()?;
    w.out.flush()?;
    tx.finish()?;
    Ok(BackupSummary {
        tables: chosen.len() as u64,
        entries,
        bytes: w.bytes,
    })
}

fn bad(why: impl Into<String>) -> Error {
    Error::Backup(why.into())
}

/// Reads `buf.len()` bytes, or reports truncation.
fn read_exact(input: &mut impl Read, buf: &mut [u8], what: &str) -> Result<(), Error> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            bad(format!("truncated: the stream ends inside {what}"))
        }
        _ => Error::Io(e),
    })
}

/// A position in one chunk's payload.
struct Records<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Records<'a> {
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let b = *self
            .data
            .get(self.at)
            .ok_or_else(|| bad("a record is cut at the end of its chunk"))?;
        self.at += 1;
        Ok(b)
    }

    fn uvarint(&mut self) -> Result<u64, Error> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(n);
            }
        }
        Err(bad("a length is not a valid varint"))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Error> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.at.checked_add(n))
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| bad("a record is longer than its chunk"))?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u64(&mut self) -> Result<u64, Error> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes(b.try_into().unwrap_or_default()))
    }
}

/// Restores a [`backup`] stream into a new database file at `path`.
///
/// The stream is verified as it is read (header, every chunk's checksum,
/// record structure, the final counts). The data goes to a scratch file
/// next to `path` (`<name>.<pid>-<n>.restoring`, created exclusively and
/// readable by its owner only), which becomes `path` only once everything
/// was read, verified and made durable; on any failure, or a crash, `path`
/// does not appear. `path` must not exist: restore never overwrites a
/// database, and never removes a file it did not create.
///
/// The new file is readable by its owner only (mode `0600` on Unix): a
/// backup stream does not say who may read the data, so restore does not
/// guess. Widen it with `chmod` once the file is where it belongs.
pub fn restore(
    mut input: impl Read,
    path: &Path,
    progress: impl FnMut(Progress),
) -> Result<BackupSummary, Error> {
    if path.exists() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} exists; restore writes a new file only", path.display()),
        )));
    }
    let scratch = Scratch::beside(path, "restoring", Mode::Private)?;
    let summary = restore_into_file(&mut input, scratch.path(), progress)?;
    // No-clobber publish: fails if `path` appeared meanwhile.
    scratch.publish(path, false)?;
    Ok(summary)
}

/// Writes a [`backup`] of the live database to a new file at `path`: the
/// one call an application's admin endpoint needs, since the running
/// application holds the database file and no other process can open it.
///
/// The file is written under a scratch name beside `path`, with the
/// database file's permissions (owner-only for an in-memory database),
/// synced, and then linked into place: `path` appears complete or not at
/// all, and an existing file at `path` is never replaced
/// (`ErrorKind::AlreadyExists`).
///
/// ```
/// use vbolt::*;
/// static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
/// let dir = tempfile::tempdir()?;
/// let db = Db::open(dir.path().join("app.vbolt"))?;
/// db.update(|tx| { write(tx, &NOTES, 1, &mut "hello".into()); Ok::<_, Error>(()) })?;
///
/// let out = dir.path().join("app-2026-11-26.backup");
/// backup_to_path(&db, &out, &BackupOptions::all(), |_| {})?;
/// // Another process can restore and read it while the application runs.
/// let copy = dir.path().join("copy.vbolt");
/// restore(std::fs::File::open(&out)?, &copy, |_| {})?;
/// assert_eq!(get(&Db::open(&copy)?.read_tx()?, &NOTES, 1)?.as_deref(), Some("hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn backup_to_path(
    db: &Db,
    path: &Path,
    options: &BackupOptions,
    progress: impl FnMut(Progress),
) -> Result<BackupSummary, Error> {
    let mut scratch = Scratch::beside(path, "backup", Mode::of(db.path()))?;
    let file = scratch
        .take_file()
        .ok_or_else(|| Error::Engine("scratch file already taken".into()))?;
    let mut out = std::io::BufWriter::new(file);
    let summary = backup(db, &mut out, options, progress)?;
    out.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    scratch.publish(path, false)?;
    Ok(summary)
}

/// Restores a [`backup`] stream into `db`, an open database that holds
/// no data yet: a new file, or a new prefix on an etcd cluster (where
/// [`restore`], which makes a file, cannot go).
///
/// The stream is verified as it is read, as [`restore`] does, but this is
/// **not atomic**: entries are committed in batches as they arrive (on
/// etcd, within the cluster's limits on one transaction), so readers may
/// see a partial restore while it runs, and a failure (a damaged stream, a
/// lost connection) leaves the entries committed so far: start over in a
/// new, empty database. Write transactions of this `Db` wait while it
/// runs; its subscriptions are woken when it ends. A database that
/// already holds entries is refused with [`Error::Backup`], before
/// anything is written.
///
/// ```
/// use vbolt::*;
/// static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
/// let db = Db::in_memory()?;
/// db.update(|tx| { write(tx, &NOTES, 1, &mut "hello".into()); Ok::<_, Error>(()) })?;
/// let mut stream = Vec::new();
/// backup(&db, &mut stream, &BackupOptions::all(), |_| {})?;
///
/// let target = Db::in_memory()?; // or Db::open_etcd(&endpoints, "app/")
/// restore_into(&target, &stream[..], |_| {})?;
/// assert_eq!(get(&target.read_tx()?, &NOTES, 1)?.as_deref(), Some("hello"));
/// assert!(matches!(restore_into(&target, &stream[..], |_| {}), Err(Error::Backup(_))));
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn restore_into(
    db: &Db,
    mut input: impl Read,
    progress: impl FnMut(Progress),
) -> Result<BackupSummary, Error> {
    db.load_directly(|store| {
        if let Some((name, n)) = store.list_tables()?.into_iter().find(|(_, n)| *n > 0) {
            return Err(bad(format!(
                "the database is not empty (table {name:?} holds {n} entries): restore \
                 into an empty one"
            )));
        }
        load_stream(&mut input, store, progress)
    })
}

/// Restores into a new file at `tmp`, synced: [`restore`]'s work.
fn restore_into_file(
    input: &mut impl Read,
    tmp: &Path,
    progress: impl FnMut(Progress),
) -> Result<BackupSummary, Error> {
    let store = Store::open(tmp, &EngineOptions::default())?;
    let summary = load_stream(input, &store, progress)?;
    store.sync()?;
    Ok(summary)
}

/// Reads, verifies and loads a backup stream into `store`, in batches.
fn load_stream(
    input: &mut impl Read,
    store: &Store,
    progress: impl FnMut(Progress),
) -> Result<BackupSummary, Error> {
    let mut header = [0u8; HEADER_LEN];
    read_exact(input, &mut header, "the header")?;
    if &header[..8] != MAGIC {
        return Err(bad("not a vbolt backup (wrong magic bytes)"));
    }
    let crc = u32::from_be_bytes(header[20..24].try_into().unwrap_or_default());
    if crc32fast::hash(&header[..20]) != crc {
        return Err(bad("the header fails its checksum"));
    }
    let version = u16::from_be_bytes([header[8], header[9]]);
    if version != VERSION {
        return Err(bad(format!(
            "format version {version}; this build reads version {VERSION}"
        )));
    }
    let total = u64::from_be_bytes(header[12..20].try_into().unwrap_or_default());

    let mut reporter = Reporter::new(total, progress);
    let mut bytes = HEADER_LEN as u64;
    let mut table: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    let mut tables = 0u64;
    let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut payload = Vec::new();
    let mut ended = None;
    while ended.is_none() {
        let mut len = [0u8; 4];
        read_exact(input, &mut len, "a chunk length")?;
        let len = u32::from_be_bytes(len);
        if len == 0 || len > MAX_CHUNK {
            return Err(bad(format!("a chunk length of {len} bytes is not valid")));
        }
        payload.clear();
        // Grows only as bytes arrive: a hostile length cannot allocate.
        input.by_ref().take(len.into()).read_to_end(&mut payload)?;
        if payload.len() != len as usize {
            return Err(bad("truncated: the stream ends inside a chunk"));
        }
        let mut crc = [0u8; 4];
        read_exact(input, &mut crc, "a chunk checksum")?;
        if crc32fast::hash(&payload) != u32::from_be_bytes(crc) {
            return Err(bad(format!("the chunk at byte {bytes} fails its checksum")));
        }
        bytes += 8 + u64::from(len);
        let mut records = Records {
            data: &payload,
            at: 0,
        };
        while !records.done() {
            match records.byte()? {
                TABLE => {
                    flush(store, table.as_deref(), &mut batch, &mut batch_bytes)?;
                    let n = records.uvarint()?;
                    let name = std::str::from_utf8(records.take(n)?)
                        .map_err(|_| bad("a table name is not UTF-8"))?;
                    // Checked before the engine sees it: only vbolt's own
                    // kinds of table, each once.
                    let (role, declared) = Role::of(name);
                    if role == Role::Other || declared.is_empty() {
                        return Err(bad(format!("{name:?} is not a vbolt table name")));
                    }
                    if !seen.insert(name.to_string()) {
                        return Err(bad(format!("table {name:?} appears twice")));
                    }
                    store.load(name, &[])?;
                    table = Some(name.to_string());
                    tables += 1;
                }
                ENTRY => {
                    if table.is_none() {
                        return Err(bad("an entry comes before any table"));
                    }
                    let n = records.uvarint()?;
                    let k = records.take(n)?.to_vec();
                    let n = records.uvarint()?;
                    let v = records.take(n)?.to_vec();
                    batch_bytes += k.len() + v.len();
                    batch.push((k, v));
                    reporter.add(1);
                    if batch.len() >= BATCH_ENTRIES || batch_bytes >= BATCH_BYTES {
                        flush(store, table.as_deref(), &mut batch, &mut batch_bytes)?;
                    }
                }
                END => {
                    let counts = (records.u64()?, records.u64()?);
                    if !records.done() {
                        return Err(bad("records follow the end record"));
                    }
                    ended = Some(counts);
                }
                other => return Err(bad(format!("unknown record type 0x{other:02x}"))),
            }
        }
    }
    flush(store, table.as_deref(), &mut batch, &mut batch_bytes)?;
    let entries = reporter.finish();
    if input.read(&mut [0u8; 1])? != 0 {
        return Err(bad("bytes follow the end of the backup"));
    }
    if ended != Some((tables, entries)) {
        return Err(bad(format!(
            "the end record says {:?} (tables, entries) but {:?} were read",
            ended.unwrap_or_default(),
            (tables, entries)
        )));
    }
    Ok(BackupSummary {
        tables,
        entries,
        bytes,
    })
}

fn flush(
    store: &Store,
    table: Option<&str>,
    batch: &mut Vec<(Vec<u8>, Vec<u8>)>,
    batch_bytes: &mut usize,
) -> Result<(), Error> {
    if let (Some(name), false) = (table, batch.is_empty()) {
        store.load(name, batch)?;
    }
    batch.clear();
    *batch_bytes = 0;
    Ok(())
}
