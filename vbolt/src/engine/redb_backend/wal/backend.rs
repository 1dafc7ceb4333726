//! The engine's storage with a log: redb's file backend, whose syncs go to
//! the write-ahead log instead of the database file.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use super::format::{Header, Kind, RECORD_HEADER, RECORDS_START, push_record};
use super::write_header;

/// Records waiting in memory are written to the log (unsynced) once they
/// reach this size, so a large transaction's writes are not held twice.
const SPILL: usize = 1 << 20;

/// The database file, written in place but synced only at checkpoints,
/// and its log, where each engine sync appends the writes since the last
/// one and syncs only that.
pub(crate) struct LoggedFile {
    main: FileBackend,
    /// Holds the log's lock for as long as the database is open.
    log: File,
    log_path: PathBuf,
    owner: u64,
    /// Records beyond this make the next one wait for a checkpoint.
    capacity: u64,
    state: Mutex<State>,
    /// Syncs the main file ahead of the checkpoint, off the commit's path.
    early: EarlySync,
}

/// A thread that syncs the main file when the log is half full, so the
/// checkpoint that follows finds fewer pages to write. Its sync changes
/// nothing about what is durable when (the checkpoint still syncs, and
/// only then starts the log over), with one exception it guards against:
/// a failed sync may leave the kernel's pages marked clean though they
/// never reached the disk, so a later sync would succeed without them. A
/// failure therefore fails the next checkpoint, and with it the log.
struct EarlySync {
    wake: Option<SyncSender<()>>,
    failed: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EarlySync {
    fn start(main: File) -> io::Result<EarlySync> {
        let (wake, woken) = sync_channel::<()>(1);
        let failed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&failed);
        let thread = std::thread::Builder::new()
            .name("vbolt-wal-sync".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    if main.sync_data().is_err() {
                        flag.store(true, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(EarlySync {
            wake: Some(wake),
            failed,
            thread: Some(thread),
        })
    }

    /// Asks for a sync unless one is already asked for; never waits.
    fn ask(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }

    fn check(&self) -> io::Result<()> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(io::Error::other(
                "an early sync of the database file failed; its writes may not be on disk",
            ));
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        self.stop();
    }
}

struct State {
    epoch: u64,
    /// Where the next records go in the log.
    at: u64,
    /// Records not yet written to the log.
    pending: Vec<u8>,
    /// Set by any I/O failure: the log may then lack a write the main
    /// file has (or hold a torn batch), so nothing more is accepted.
    failed: bool,
}

impl fmt::Debug for LoggedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggedFile")
            .field("log", &self.log_path)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl LoggedFile {
    /// Storage over `main` with `log` (locked, its header at `epoch`
    /// already written and synced, nothing logged yet).
    pub(super) fn new(
        main: File,
        log: File,
        log_path: PathBuf,
        header: Header,
        capacity: u64,
    ) -> Result<LoggedFile, crate::error::Error> {
        let early = EarlySync::start(main.try_clone()?)?;
        Ok(LoggedFile {
            early,
            main: FileBackend::new(main),
            log,
            log_path,
            owner: header.owner,
            capacity,
            state: Mutex::new(State {
                epoch: header.epoch,
                at: RECORDS_START,
                pending: Vec::new(),
                failed: false,
            }),
        })
    }

    fn state(&self) -> io::Result<MutexGuard<'_, State>> {
        let s = self
            .state
            .lock()
            .map_err(|_| io::Error::other("the write-ahead log's state is poisoned"))?;
        if s.failed {
            return Err(io::Error::other(format!(
                "the write-ahead log {} failed to write earlier; reopen the database",
                self.log_path.display()
            )));
        }
        Ok(s)
    }

    /// Runs `step` on the state; any failure stops the log for good.
    fn logged<T>(&self, step: impl FnOnce(&mut State) -> io::Result<T>) -> io::Result<T> {
        let mut s = self.state()?;
        let out = step(&mut s);
        if out.is_err() {
            s.failed = true;
        }
        out
    }

    /// Appends a record, after a checkpoint if the log would grow past its
    /// capacity (unless it is empty: a record larger than the whole log
    /// then makes the file grow).
    fn append(&self, s: &mut State, kind: Kind, arg: u64, payload: &[u8]) -> io::Result<()> {
        let need = (RECORD_HEADER + payload.len() + s.pending.len()) as u64;
        let empty = s.at == RECORDS_START && s.pending.is_empty();
        if s.at + need > RECORDS_START + self.capacity && !empty {
            self.checkpoint(s)?;
        }
        let half = RECORDS_START + self.capacity / 2;
        let before = s.at + s.pending.len() as u64;
        push_record(&mut s.pending, kind, s.epoch, arg, payload);
        if before < half && s.at + s.pending.len() as u64 >= half {
            self.early.ask();
        }
        if s.pending.len() >= SPILL {
            self.spill(s)?;
        }
        Ok(())
    }

    /// Writes the pending records to the log, unsynced.
    fn spill(&self, s: &mut State) -> io::Result<()> {
        self.log.write_all_at(&s.pending, s.at)?;
        s.at += s.pending.len() as u64;
        s.pending.clear();
        // A large value's record leaves no large buffer behind.
        if s.pending.capacity() > 4 * SPILL {
            s.pending = Vec::new();
        }
        Ok(())
    }

    /// Makes the main file hold everything on its own (one sync of it),
    /// then starts the log over under a new epoch. Pending records are
    /// dropped: their writes are already in the main file, now synced.
    fn checkpoint(&self, s: &mut State) -> io::Result<()> {
        self.early.check()?;
        self.main.sync_data()?;
        self.early.check()?;
        s.epoch += 1;
        write_header(
            &self.log,
            &Header {
                epoch: s.epoch,
                owner: self.owner,
            },
        )?;
        s.at = RECORDS_START;
        s.pending.clear();
        Ok(())
    }
}

impl StorageBackend for LoggedFile {
    fn len(&self) -> Result<u64, BackendError> {
        self.main.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), BackendError> {
        // Writes reach the main file at once, so it reads as current.
        self.main.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), BackendError> {
        Ok(self.logged(|s| {
            self.append(s, Kind::SetLen, len, &[])?;
            Ok(self.main.set_len(len)?)
        })?)
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        Ok(self.logged(|s| {
            self.append(s, Kind::Write, offset, data)?;
            Ok(self.main.write(offset, data)?)
        })?)
    }

    /// The commit point: every write since the last sync, then a sync
    /// record, written to the log in one piece and synced there.
    fn sync_data(&self) -> Result<(), BackendError> {
        Ok(self.logged(|s| {
            self.append(s, Kind::Sync, 0, &[])?;
            self.spill(s)?;
            self.log.sync_data()
        })?)
    }

    /// A last checkpoint, so a clean close leaves nothing to replay.
    fn close(&self) -> Result<(), BackendError> {
        let checkpointed = self.logged(|s| {
            if s.at != RECORDS_START || !s.pending.is_empty() {
                self.checkpoint(s)?;
            }
            Ok(())
        });
        let closed = self.main.close();
        checkpointed?;
        closed
    }

    forward_locks!(main);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_early_sync_fails_the_next_checkpoint() {
        // Syncing /dev/null fails (EINVAL), as a disk error would.
        let mut early = EarlySync::start(File::open("/dev/null").unwrap()).unwrap();
        assert!(early.check().is_ok());
        early.ask();
        early.stop();
        let err = early.check().unwrap_err();
        assert!(err.to_string().contains("early sync"), "{err}");
    }
}
