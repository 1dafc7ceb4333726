//! Run-once processes: migrations and data fixes that must happen exactly
//! once per database, recorded in the database itself (the table
//! `vbolt:processes`, name -> Unix time in milliseconds when it was applied).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::db::Db;
use crate::engine::{TableId, TableKind};
use crate::error::Error;
use crate::tx::{Readable, WriteTx, try_get};

static PROCESSES: TableId = TableId::new(TableKind::Meta, "processes");

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn applied_at(tx: &impl Readable, name: &str) -> Result<Option<SystemTime>, Error> {
    let at = try_get(tx, &PROCESSES, name.as_bytes(), |v| {
        <[u8; 8]>::try_from(v)
            .ok()
            .map(|b| UNIX_EPOCH + Duration::from_millis(u64::from_be_bytes(b)))
    })?;
    match at {
        None => Ok(None),
        Some(Some(at)) => Ok(Some(at)),
        Some(None) => Err(Error::Corrupted(format!(
            "the record of process {name:?} is not an 8-byte time"
        ))),
    }
}

/// When the process called `name` was applied to this database, if it was.
pub fn process_applied(db: &Db, name: &str) -> Result<Option<SystemTime>, Error> {
    applied_at(&db.read_tx()?, name)
}

/// Runs `f` once per database, in one write transaction that also records
/// the process: the work and its record are committed together or not at
/// all. Returns `Ok(true)` if it ran now, `Ok(false)` if it had run before.
///
/// `f` writes through the transaction it is given and need not commit;
/// if it does commit, the record goes with that commit. If `f` returns
/// `Err`, or any write in it fails, nothing is committed and the error is
/// returned, so the process runs again next time. `f` must not begin a
/// write transaction of its own: it already holds the one there is (that
/// fails with [`Error::WriteInProgress`]).
///
/// ```
/// use vbolt::*;
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::key::fuint(), vpack::string);
///
/// let db = Db::in_memory()?;
/// let seed = |tx: &mut WriteTx| {
///     write(tx, &USERS, 1, &mut "admin".to_string());
///     Ok::<_, Error>(())
/// };
/// assert!(apply_db_process(&db, "2026-11 seed admin", seed)?);
/// assert!(!apply_db_process(&db, "2026-11 seed admin", seed)?); // already done
/// assert!(process_applied(&db, "2026-11 seed admin")?.is_some());
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn apply_db_process<E: From<Error>>(
    db: &Db,
    name: &str,
    f: impl FnOnce(&mut WriteTx) -> Result<(), E>,
) -> Result<bool, E> {
    let mut tx = db.write_tx()?;
    if applied_at(&tx, name)?.is_some() {
        return Ok(false);
    }
    // Recorded first, so that a commit made inside `f` carries the record.
    tx.put(&PROCESSES, name.as_bytes(), &now_millis().to_be_bytes());
    f(&mut tx)?;
    if tx.is_finished() {
        // `f` committed itself; whether that commit (and so the record)
        // took effect is what the database now says.
        drop(tx);
        return match process_applied(db, name)? {
            Some(_) => Ok(true),
            None => Err(Error::Engine(format!(
                "process {name:?} committed its own transaction and that commit failed"
            ))
            .into()),
        };
    }
    tx.commit()?;
    Ok(true)
}

/// Runs `f` once per database when the work needs many transactions (for
/// example [`tx_write_batches`](crate::tx_write_batches) over a large
/// bucket); the record is committed after `f` returns `Ok`.
///
/// A crash or error in the middle leaves the process unrecorded, and it runs
/// again from the start next time, over the part already done. So `f` must
/// be **idempotent**: running it twice must give the same result as once
/// (set values rather than increment them; skip records already converted).
///
/// ```
/// use vbolt::*;
/// static SCORES: Bucket<u64, u64> = Bucket::new("scores", vpack::key::fuint(), vpack::uint);
///
/// let db = Db::in_memory()?;
/// db.update(|tx| {
///     for id in 1..=10u64 { write(tx, &SCORES, id, &mut id.clone()); }
///     Ok::<_, Error>(())
/// })?;
/// // Idempotent: a score is set from its id, never incremented.
/// let ran = apply_db_process_batched(&db, "rescale scores", |db| {
///     tx_write_batches(db, &SCORES, 4, |tx, id, _| write(tx, &SCORES, id, &mut (id * 100)))?;
///     Ok(())
/// })?;
/// assert!(ran);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn apply_db_process_batched(
    db: &Db,
    name: &str,
    f: impl FnOnce(&Db) -> Result<(), Error>,
) -> Result<bool, Error> {
    if process_applied(db, name)?.is_some() {
        return Ok(false);
    }
    f(db)?;
    let mut tx = db.write_tx()?;
    if applied_at(&tx, name)?.is_some() {
        return Ok(false);
    }
    tx.put(&PROCESSES, name.as_bytes(), &now_millis().to_be_bytes());
    tx.commit()?;
    Ok(true)
}
