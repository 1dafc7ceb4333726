//! Opening what a command names: a database file (read-only unless the
//! command writes) or a database on an etcd cluster
//! (`etcd://HOST:PORT[,HOST:PORT...]/PREFIX`), and the table a BUCKET
//! argument names.

use std::path::Path;

use vbolt::{Db, Error, Options};

use crate::exit::{Exit, Failure, fail, operation};

/// The failure of opening `path`, with what to do about it.
fn open_failure(path: &Path, e: Error) -> Failure {
    let p = path.display();
    match e {
        Error::InUse => fail(
            Exit::Open,
            format!(
                "{p} is in use by another process (a vbolt file is opened by one process at a \
                 time): stop the application, or have it write a backup with \
                 vbolt::backup_to_path and inspect a restored copy"
            ),
        ),
        Error::Corrupted(why) => fail(
            Exit::Open,
            format!("{p} is not a vbolt database, or it is damaged: {why}"),
        ),
        Error::UpgradeRequired(v) => fail(
            Exit::Open,
            format!("{p}: file format version {v} needs an upgrade"),
        ),
        Error::NeedsRecovery => fail(
            Exit::Open,
            format!(
                "{p} needs recovery, which this read-only open cannot do: its last writer \
                 did not close it (a crash?), its write-ahead log ({p}-wal) holds commits to \
                 replay, or its length is not the recorded one (damage?). \
                 Run `vbolt recover {p}` (or open it with the application) first; if that \
                 reports damage, restore the file from a backup"
            ),
        ),
        other => fail(Exit::Open, format!("{p}: {other}")),
    }
}

/// The scheme of a database on an etcd cluster, in place of a file:
/// `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`.
const ETCD_SCHEME: &str = "etcd://";

/// The endpoints and key prefix named by an `etcd://` argument; `None` for
/// a file path.
fn etcd_target(path: &Path) -> Option<Result<(Vec<String>, String), Failure>> {
    let rest = path.to_str()?.strip_prefix(ETCD_SCHEME)?;
    let Some((hosts, prefix)) = rest.split_once('/') else {
        return Some(Err(fail(
            Exit::Usage,
            format!(
                "{}: expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX",
                path.display()
            ),
        )));
    };
    let endpoints = hosts
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| format!("http://{h}"))
        .collect::<Vec<_>>();
    if endpoints.is_empty() || prefix.is_empty() {
        return Some(Err(fail(
            Exit::Usage,
            format!(
                "{}: name at least one HOST:PORT and a PREFIX",
                path.display()
            ),
        )));
    }
    Some(Ok((endpoints, prefix.to_string())))
}

/// True if `path` names a database on an etcd cluster.
pub fn is_etcd(path: &Path) -> bool {
    etcd_target(path).is_some()
}

/// Refuses a command that works on files only, for an etcd target.
pub fn file_only(path: &Path, what: &str) -> Result<(), Failure> {
    if is_etcd(path) {
        return Err(fail(
            Exit::Usage,
            format!("{what} works on a database file; an etcd cluster has its own tools (etcdctl)"),
        ));
    }
    Ok(())
}

/// Opens a database kept on an etcd cluster.
#[cfg(feature = "etcd")]
fn open_etcd(path: &Path, endpoints: &[String], prefix: &str) -> Result<Db, Failure> {
    Db::open_etcd(endpoints, prefix)
        .map_err(|e| fail(Exit::Open, format!("{}: {e}", path.display())))
}

#[cfg(not(feature = "etcd"))]
fn open_etcd(path: &Path, _: &[String], _: &str) -> Result<Db, Failure> {
    Err(fail(
        Exit::Open,
        format!(
            "{}: this vbolt was built without etcd support (cargo install --path cli --features etcd)",
            path.display()
        ),
    ))
}

/// Opens an existing file (or an etcd database); `write` only for the
/// commands that say so.
pub fn open(path: &Path, write: bool) -> Result<Db, Failure> {
    if let Some(target) = etcd_target(path) {
        let (endpoints, prefix) = target?;
        return open_etcd(path, &endpoints, &prefix);
    }
    if !path.is_file() {
        let why = if path.exists() {
            "not a file"
        } else {
            "no such file"
        };
        return Err(fail(Exit::Open, format!("{}: {why}", path.display())));
    }
    // The engine would make an empty file into a new database on a
    // read-write open: this tool never modifies a file that is not one.
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(fail(
            Exit::Open,
            format!(
                "{} is empty: not a vbolt database (an application's Db::open creates one)",
                path.display()
            ),
        ));
    }
    Db::open_with(path, Options::new().read_only(!write)).map_err(|e| open_failure(path, e))
}

/// The engine table a BUCKET argument names: a declared bucket name, or a
/// full engine name such as `index:tags`.
pub fn table_name(db: &Db, arg: &str) -> Result<String, Failure> {
    let names: Vec<String> = vbolt::tables(db)
        .map_err(operation)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    // As `buckets` lists them: a bucket's or an index's declared name (an
    // index's term entries), or an engine-level name.
    let bucket = format!("bucket:{arg}");
    let index = format!("index:{arg}");
    if names.contains(&bucket) {
        Ok(bucket)
    } else if names.contains(&index) {
        Ok(index)
    } else if names.iter().any(|n| n == arg) {
        Ok(arg.to_string())
    } else {
        Err(fail(
            Exit::No,
            format!("no bucket, index or table named {arg:?} (see `vbolt buckets`)"),
        ))
    }
}
