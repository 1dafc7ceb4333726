//! Reading a log back: its header, where its last complete commit ends,
//! and copying that much into the main file.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::format::{Header, Kind, RECORD_HEADER, RECORDS_START, RecordHeader, SLOTS};
use crate::error::Error;

/// How much of a record's payload is read at once.
const CHUNK: usize = 64 << 10;

/// What a replay copied into the main file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Replayed {
    /// Durable commits (syncs) whose writes were copied.
    pub syncs: u64,
    /// Writes copied, and their bytes.
    pub writes: u64,
    pub bytes: u64,
}

/// Reads `buf.len()` bytes at `at`; `false` if the file ends first.
fn read_at(file: &File, buf: &mut [u8], at: u64) -> Result<bool, Error> {
    match file.read_exact_at(buf, at) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(Error::Io(e)),
    }
}

/// The log's header: the valid slot with the higher epoch. `Ok(None)` for
/// an empty file (created, and the process stopped before writing its
/// header: nothing can have been logged). Both slots damaged is an error:
/// the records' epoch is then unknown, and guessing could replay stale
/// records or drop committed ones.
pub(super) fn read_header(log: &File, path: &Path) -> Result<Option<Header>, Error> {
    if log.metadata()?.len() == 0 {
        return Ok(None);
    }
    let mut best: Option<Header> = None;
    let mut why = "";
    for slot in SLOTS {
        let mut b = [0u8; super::format::SLOT_LEN];
        if !read_at(log, &mut b, slot)? {
            why = "it is shorter than its header";
            continue;
        }
        match Header::decode(&b) {
            Ok(h) if best.is_none_or(|b| h.epoch > b.epoch) => best = Some(h),
            Ok(_) => {}
            Err(e) => why = e,
        }
    }
    best.map(Some).ok_or_else(|| {
        Error::Corrupted(format!(
            "write-ahead log {}: both header slots are unreadable ({why}); \
             it may hold commits the database file lacks",
            path.display()
        ))
    })
}

/// Calls `f` with each record of `header`'s epoch in order, with its
/// position, until the first that is not whole (the end, or a torn
/// write), and returns where the last sync record ends: what was
/// acknowledged as committed. Each payload's checksum is checked before
/// `f` sees the record. Stops at `limit`.
fn walk(
    log: &File,
    header: &Header,
    limit: u64,
    mut f: impl FnMut(u64, &RecordHeader) -> Result<(), Error>,
) -> Result<u64, Error> {
    let len = log.metadata()?.len();
    let mut buf = vec![0u8; CHUNK];
    let (mut at, mut synced_end) = (RECORDS_START, RECORDS_START);
    while at < limit {
        let mut head = [0u8; RECORD_HEADER];
        if !read_at(log, &mut head, at)? {
            return Ok(synced_end);
        }
        let Some(rec) = RecordHeader::decode(&head) else {
            return Ok(synced_end);
        };
        let body = at + RECORD_HEADER as u64;
        // A length the file cannot hold is a torn or foreign record, not
        // an amount to read.
        let fits = rec.len <= len.saturating_sub(body);
        if rec.epoch != header.epoch || !fits || (rec.kind != Kind::Write && rec.len != 0) {
            return Ok(synced_end);
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head[4..]);
        let mut done = 0;
        while done < rec.len {
            let n = (rec.len - done).min(CHUNK as u64) as usize;
            if !read_at(log, &mut buf[..n], body + done)? {
                return Ok(synced_end);
            }
            crc.update(&buf[..n]);
            done += n as u64;
        }
        if crc.finalize() != rec.crc {
            return Ok(synced_end);
        }
        f(at, &rec)?;
        at = body + rec.len;
        if rec.kind == Kind::Sync {
            synced_end = at;
        }
    }
    Ok(synced_end)
}

/// Where the log's acknowledged records end (`RECORDS_START`: nothing to
/// replay).
pub(super) fn synced_end(log: &File, header: &Header) -> Result<u64, Error> {
    walk(log, header, u64::MAX, |_, _| Ok(()))
}

/// Copies every acknowledged record (those before `end`, as
/// [`synced_end`] found it) into `main`, in order, then syncs it.
/// A record that would write past the main file's length (as the records
/// before it set it) is refused as damage: the engine never writes past
/// its own length.
pub(super) fn apply(
    log: &File,
    main: &File,
    header: &Header,
    end: u64,
    path: &Path,
) -> Result<Replayed, Error> {
    let mut main_len = main.metadata()?.len();
    let mut done = Replayed::default();
    let mut buf = vec![0u8; CHUNK];
    walk(log, header, end, |at, rec| {
        match rec.kind {
            Kind::Sync => done.syncs += 1,
            Kind::SetLen => {
                main.set_len(rec.arg)?;
                main_len = rec.arg;
            }
            Kind::Write => {
                if rec.arg.checked_add(rec.len).is_none_or(|e| e > main_len) {
                    return Err(Error::Corrupted(format!(
                        "write-ahead log {}: the record at byte {at} writes {} bytes at \
                         offset {} of a {main_len}-byte file",
                        path.display(),
                        rec.len,
                        rec.arg
                    )));
                }
                let body = at + RECORD_HEADER as u64;
                let mut copied = 0;
                while copied < rec.len {
                    let n = (rec.len - copied).min(CHUNK as u64) as usize;
                    log.read_exact_at(&mut buf[..n], body + copied)?;
                    main.write_all_at(&buf[..n], rec.arg + copied)?;
                    copied += n as u64;
                }
                done.writes += 1;
                done.bytes += rec.len;
            }
        }
        Ok(())
    })?;
    main.sync_all()?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::super::format::{Kind, push_record};
    use super::*;

    const HEADER: Header = Header { epoch: 3, owner: 1 };

    /// A log holding `records` after its header, and a main file of
    /// `main_len` zero bytes.
    fn files(records: &[u8], main_len: u64) -> (tempfile::TempDir, File, File) {
        let dir = tempfile::tempdir().unwrap();
        let log = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("log"))
            .unwrap();
        for slot in SLOTS {
            log.write_all_at(&HEADER.encode(), slot).unwrap();
        }
        log.write_all_at(records, RECORDS_START).unwrap();
        let main = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("main"))
            .unwrap();
        main.set_len(main_len).unwrap();
        (dir, log, main)
    }

    fn contents(f: &File) -> Vec<u8> {
        let mut b = vec![0u8; f.metadata().unwrap().len() as usize];
        f.read_exact_at(&mut b, 0).unwrap();
        b
    }

    #[test]
    fn only_writes_followed_by_a_sync_are_copied() {
        let mut r = Vec::new();
        push_record(&mut r, Kind::Write, 3, 0, b"ab");
        push_record(&mut r, Kind::SetLen, 3, 6, &[]);
        push_record(&mut r, Kind::Write, 3, 4, b"cd");
        push_record(&mut r, Kind::Sync, 3, 0, &[]);
        push_record(&mut r, Kind::Write, 3, 2, b"zz");
        let (_dir, log, main) = files(&r, 4);
        let h = read_header(&log, Path::new("log")).unwrap().unwrap();
        assert_eq!(h, HEADER);
        let done = apply(
            &log,
            &main,
            &h,
            synced_end(&log, &h).unwrap(),
            Path::new("log"),
        )
        .unwrap();
        assert_eq!(contents(&main), b"ab\0\0cd");
        assert_eq!(
            done,
            Replayed {
                syncs: 1,
                writes: 2,
                bytes: 4
            }
        );
    }

    #[test]
    fn a_record_of_another_epoch_or_with_a_bad_checksum_ends_the_log() {
        for bad in 0..2 {
            let mut r = Vec::new();
            push_record(&mut r, Kind::Write, 3, 0, b"ab");
            push_record(&mut r, Kind::Sync, 3, 0, &[]);
            let second = r.len();
            push_record(&mut r, Kind::Write, if bad == 0 { 2 } else { 3 }, 2, b"cd");
            push_record(&mut r, Kind::Sync, 3, 0, &[]);
            if bad == 1 {
                let payload = second + RECORD_HEADER;
                r[payload] ^= 1;
            }
            let (_dir, log, main) = files(&r, 4);
            apply(
                &log,
                &main,
                &HEADER,
                synced_end(&log, &HEADER).unwrap(),
                Path::new("log"),
            )
            .unwrap();
            assert_eq!(contents(&main), b"ab\0\0", "case {bad}");
        }
    }

    #[test]
    fn a_write_past_the_file_or_a_length_past_the_log_is_not_obeyed() {
        let mut r = Vec::new();
        push_record(&mut r, Kind::Write, 3, 3, b"ab");
        push_record(&mut r, Kind::Sync, 3, 0, &[]);
        let (_dir, log, main) = files(&r, 4);
        match apply(
            &log,
            &main,
            &HEADER,
            synced_end(&log, &HEADER).unwrap(),
            Path::new("log"),
        ) {
            Err(Error::Corrupted(why)) => assert!(why.contains("offset 3"), "{why}"),
            other => panic!("{other:?}"),
        }
        // A record claiming more payload than the file holds reads as the
        // end, and nothing that long is allocated.
        let mut r = Vec::new();
        push_record(&mut r, Kind::Write, 3, 0, b"ab");
        r[24..32].copy_from_slice(&(u64::MAX - 8).to_le_bytes());
        let (_dir, log, _main) = files(&r, 4);
        assert_eq!(synced_end(&log, &HEADER).unwrap(), RECORDS_START);
    }

    #[test]
    fn an_empty_log_has_no_header_and_a_short_one_is_damaged() {
        let (dir, log, _main) = files(&[], 0);
        log.set_len(0).unwrap();
        assert_eq!(read_header(&log, Path::new("log")).unwrap(), None);
        log.set_len(100).unwrap();
        match read_header(&log, &dir.path().join("log")) {
            Err(Error::Corrupted(why)) => assert!(why.contains("both header slots"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
