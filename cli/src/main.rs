//! `vbolt`: inspect and operate vbolt database files without writing code.
//!
//! Read commands open the file read-only and never change it; the commands
//! that write (`restore`, `compact`, `recover`, `info --space`) say so in
//! their help.

mod engine_check;
mod show;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use vbolt::{BackupOptions, Db, Error, Options, Progress, Role};

use engine_check::Verdict;
use show::{KEY_HELP, parse_key, show, show_key};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the answer is no: `get` found no such key, `check` found problems
  2  usage error
  3  the file cannot be opened: missing, in use by another process, or not
     a vbolt database
  4  the operation failed (I/O error, invalid backup, ...)";

#[derive(Parser)]
#[command(
    name = "vbolt",
    version,
    about = "Inspect, check, back up, restore and compact vbolt database files.",
    after_help = format!("Examples:
  vbolt info app.vbolt
  vbolt keys app.vbolt users --limit 20
  vbolt get app.vbolt users u64:42 --json
  vbolt check app.vbolt
  vbolt backup app.vbolt app.backup && vbolt restore app.backup copy.vbolt
  vbolt info etcd://10.0.0.1:2379,10.0.0.2:2379/app/   (built with --features etcd)

In place of a file, the read commands and `backup` take a database kept on
an etcd cluster: etcd://HOST:PORT[,HOST:PORT...]/PREFIX.

A running application holds its database file for itself: no command works
on it meanwhile (exit code 3, \"in use\"). Stop the application first, or
have it write a backup from inside (`vbolt::backup_to_path`, for example
behind an admin endpoint) and inspect a restored copy of that.

{EXIT_CODES}")
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How `get` and `dump` show stored bytes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Text when the bytes are printable, else hex (`0x...`).
    Auto,
    /// Always as text (not valid UTF-8: replacement characters).
    Text,
    /// Always as hex.
    Hex,
    /// JSON objects with both forms.
    Json,
}

impl Format {
    fn show(self, bytes: &[u8]) -> String {
        match self {
            Format::Text => String::from_utf8_lossy(bytes).into_owned(),
            Format::Hex => show::hex(bytes),
            Format::Auto | Format::Json => show(bytes),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// File size, engine, and every bucket and index with its entry count
    /// and tree shape (depth: pages a lookup visits; leaf and branch pages).
    Info {
        file: PathBuf,
        /// Also report free space. This opens the file read-write, which the
        /// engine's space statistics need: no table data changes, but the
        /// engine rewrites its own bookkeeping when the file is closed, so
        /// the file's bytes (not its contents) may change.
        #[arg(long)]
        space: bool,
        #[arg(long)]
        json: bool,
    },
    /// Buckets and indexes with their entry counts.
    Buckets {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Keys of a bucket (or of any engine table, by its full name).
    #[command(after_help = KEY_HELP)]
    Keys {
        file: PathBuf,
        bucket: String,
        /// Only keys starting with this (same forms as a key).
        #[arg(long)]
        prefix: Option<String>,
        /// At most this many keys (0: all).
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// The value stored under one key.
    #[command(after_help = KEY_HELP)]
    Get {
        file: PathBuf,
        bucket: String,
        key: String,
        /// How to show the value.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// Same as `--format json`.
        #[arg(long)]
        json: bool,
    },
    /// Every entry of a bucket (or engine table).
    Dump {
        file: PathBuf,
        bucket: String,
        /// How to show values (keys are always shown so that `get` takes
        /// them back).
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// Same as `--format json`.
        #[arg(long)]
        json: bool,
    },
    /// Reads every entry and checks every index's consistency (read-only).
    Check {
        file: PathBuf,
        /// Skip the engine's check of every page's checksum. By default it
        /// runs, on an owner-only scratch copy beside FILE (FILE is never
        /// written; the copy needs as much free space as FILE), so damage
        /// inside a stored value, which the plain check cannot see, is found.
        #[arg(long)]
        quick: bool,
        /// The default; kept for scripts written for vbolt 0.2.
        #[arg(long, hide = true)]
        engine: bool,
        #[arg(long)]
        json: bool,
    },
    /// Writes a consistent, checksummed backup of FILE to OUT (`-`: stdout).
    Backup { file: PathBuf, out: PathBuf },
    /// Restores BACKUP (`-`: stdin) into the new database file FILE
    /// (writes FILE; never overwrites an existing one), or into an empty
    /// database on an etcd cluster (in batches: not atomic; start over
    /// under a new prefix if it fails).
    Restore { backup: PathBuf, file: PathBuf },
    /// Compacts FILE in place (writes FILE), or into the new file OUT.
    Compact { file: PathBuf, out: Option<PathBuf> },
    /// Runs crash recovery on FILE, whose last writer did not close it
    /// (writes FILE): what the application's next open would do. The read
    /// commands open read-only, which cannot recover a file.
    Recover { file: PathBuf },
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn operation(e: Error) -> Failure {
    fail(4, e.to_string())
}

fn open_failure(path: &Path, e: Error) -> Failure {
    let p = path.display();
    match e {
        Error::InUse => fail(
            3,
            format!(
                "{p} is in use by another process (a vbolt file is opened by one process at a \
                 time): stop the application, or have it write a backup with \
                 vbolt::backup_to_path and inspect a restored copy"
            ),
        ),
        Error::Corrupted(why) => fail(
            3,
            format!("{p} is not a vbolt database, or it is damaged: {why}"),
        ),
        Error::UpgradeRequired(v) => {
            fail(3, format!("{p}: file format version {v} needs an upgrade"))
        }
        Error::NeedsRecovery => fail(
            3,
            format!(
                "{p} needs recovery, which this read-only open cannot do: its last writer \
                 did not close it (a crash?), or its length is not the recorded one (damage?). \
                 Run `vbolt recover {p}` (or open it with the application) first; if that \
                 reports damage, restore the file from a backup"
            ),
        ),
        other => fail(3, format!("{p}: {other}")),
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
            2,
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
            2,
            format!(
                "{}: name at least one HOST:PORT and a PREFIX",
                path.display()
            ),
        )));
    }
    Some(Ok((endpoints, prefix.to_string())))
}

/// True if `path` names a database on an etcd cluster.
fn is_etcd(path: &Path) -> bool {
    etcd_target(path).is_some()
}

/// Refuses a command that works on files only, for an etcd target.
fn file_only(path: &Path, what: &str) -> Result<(), Failure> {
    if is_etcd(path) {
        return Err(fail(
            2,
            format!("{what} works on a database file; an etcd cluster has its own tools (etcdctl)"),
        ));
    }
    Ok(())
}

/// Opens a database kept on an etcd cluster.
#[cfg(feature = "etcd")]
fn open_etcd(path: &Path, endpoints: &[String], prefix: &str) -> Result<Db, Failure> {
    Db::open_etcd(endpoints, prefix).map_err(|e| fail(3, format!("{}: {e}", path.display())))
}

#[cfg(not(feature = "etcd"))]
fn open_etcd(path: &Path, _: &[String], _: &str) -> Result<Db, Failure> {
    Err(fail(
        3,
        format!(
            "{}: this vbolt was built without etcd support (cargo install --path cli --features etcd)",
            path.display()
        ),
    ))
}

/// Opens an existing file (or an etcd database); `write` only for the
/// commands that say so.
fn open(path: &Path, write: bool) -> Result<Db, Failure> {
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
        return Err(fail(3, format!("{}: {why}", path.display())));
    }
    // The engine would make an empty file into a new database on a
    // read-write open: this tool never modifies a file that is not one.
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(fail(
            3,
            format!(
                "{} is empty: not a vbolt database (an application's Db::open creates one)",
                path.display()
            ),
        ));
    }
    Db::open_with(path, Options::new().read_only(!write)).map_err(|e| open_failure(path, e))
}

/// A progress bar on a terminal; nothing when stderr is piped.
fn progress_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn report(bar: &ProgressBar) -> impl FnMut(Progress) + '_ {
    |p: Progress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    }
}

/// The engine table a BUCKET argument names: a declared bucket name, or a
/// full engine name such as `index:tags`.
fn table_name(db: &Db, arg: &str) -> Result<String, Failure> {
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
            1,
            format!("no bucket, index or table named {arg:?} (see `vbolt buckets`)"),
        ))
    }
}

fn print_json(v: &serde_json::Value) {
    println!("{v:#}");
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Bucket => "bucket",
        Role::IndexTerms => "index terms",
        Role::IndexTargets => "index targets",
        Role::IndexCounts => "index counts",
        Role::Meta => "vbolt",
        Role::Other => "other",
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Info { file, space, json } => {
            if space {
                file_only(&file, "info --space")?;
            }
            let db = open(&file, space)?;
            let engine = if is_etcd(&file) { "etcd" } else { "redb 4" };
            let size = if is_etcd(&file) {
                0
            } else {
                std::fs::metadata(&file)
                    .map_err(|e| fail(4, e.to_string()))?
                    .len()
            };
            let tables = vbolt::tables(&db).map_err(operation)?;
            let space = if space {
                Some(db.space().map_err(operation)?)
            } else {
                None
            };
            if json {
                print_json(&json!({
                    "file": file.display().to_string(),
                    "size_bytes": size,
                    "engine": engine,
                    "free_bytes": space.map(|s| s.fragmented_bytes),
                    "stored_bytes": space.map(|s| s.stored_bytes),
                    "tables": tables.iter().map(|t| json!({
                        "name": t.name, "declared": t.declared,
                        "role": role_name(t.role), "entries": t.entries,
                        "depth": t.shape.depth, "leaf_pages": t.shape.leaf_pages,
                        "branch_pages": t.shape.branch_pages,
                    })).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            println!("file:    {}", file.display());
            if !is_etcd(&file) {
                println!("size:    {size} bytes");
            }
            println!("engine:  {engine} (vbolt layout: buckets, indexes as three tables)");
            match space {
                Some(s) => println!(
                    "space:   {} bytes stored, {} metadata, {} free (reclaimable by `vbolt compact`)",
                    s.stored_bytes, s.metadata_bytes, s.fragmented_bytes
                ),
                None => println!("space:   run `vbolt info --space` for free space"),
            }
            println!(
                "{:<14} {:<30} {:>12} {:>5} {:>10} {:>8}",
                "role", "name", "entries", "depth", "leaves", "branches"
            );
            for t in &tables {
                println!(
                    "{:<14} {:<30} {:>12} {:>5} {:>10} {:>8}",
                    role_name(t.role),
                    t.declared,
                    t.entries,
                    t.shape.depth,
                    t.shape.leaf_pages,
                    t.shape.branch_pages
                );
            }
        }
        Command::Buckets { file, json } => {
            let db = open(&file, false)?;
            let tables = vbolt::tables(&db).map_err(operation)?;
            let listed: Vec<_> = tables
                .iter()
                .filter(|t| matches!(t.role, Role::Bucket | Role::IndexTerms | Role::Other))
                .map(|t| {
                    let kind = match t.role {
                        Role::Bucket => "bucket",
                        Role::IndexTerms => "index",
                        _ => "other",
                    };
                    (kind, t)
                })
                .collect();
            if json {
                print_json(&json!(listed
                    .iter()
                    .map(|(kind, t)| json!({"kind": kind, "name": t.declared, "entries": t.entries}))
                    .collect::<Vec<_>>()));
            } else {
                for (kind, t) in listed {
                    println!("{kind:<7} {:<30} {:>12}", t.declared, t.entries);
                }
            }
        }
        Command::Keys {
            file,
            bucket,
            prefix,
            limit,
            json,
        } => {
            let db = open(&file, false)?;
            let table = table_name(&db, &bucket)?;
            let prefix = prefix
                .as_deref()
                .map(parse_key)
                .transpose()
                .map_err(|e| fail(2, e))?
                .unwrap_or_default();
            let tx = db.read_tx().map_err(operation)?;
            let mut keys = Vec::new();
            let more = vbolt::raw_entries(
                &tx,
                &table,
                None,
                &prefix,
                (limit > 0).then_some(limit),
                |k, _| keys.push(k.to_vec()),
            )
            .map_err(operation)?;
            if json {
                print_json(&json!({
                    "keys": keys.iter().map(|k| show::json(k)).collect::<Vec<_>>(),
                    "more": more.is_some(),
                }));
            } else {
                let mut out = std::io::stdout().lock();
                for k in &keys {
                    let _ = writeln!(out, "{}", show_key(k));
                }
                if more.is_some() {
                    eprintln!("(more keys follow; raise --limit, or 0 for all)");
                }
            }
        }
        Command::Get {
            file,
            bucket,
            key,
            format,
            json,
        } => {
            let json = json || format == Format::Json;
            let db = open(&file, false)?;
            let table = table_name(&db, &bucket)?;
            let key = parse_key(&key).map_err(|e| fail(2, e))?;
            let tx = db.read_tx().map_err(operation)?;
            let mut value = None;
            vbolt::raw_entries(&tx, &table, Some(&key), &key, Some(1), |k, v| {
                if k == key {
                    value = Some(v.to_vec());
                }
            })
            .map_err(operation)?;
            let Some(value) = value else {
                return Err(fail(1, format!("no key {} in {table}", show_key(&key))));
            };
            if json {
                print_json(&json!({ "key": show::json(&key), "value": show::json(&value) }));
            } else {
                println!("{}", format.show(&value));
            }
        }
        Command::Dump {
            file,
            bucket,
            format,
            json,
        } => {
            let json = json || format == Format::Json;
            let db = open(&file, false)?;
            let table = table_name(&db, &bucket)?;
            let tx = db.read_tx().map_err(operation)?;
            let mut out = std::io::stdout().lock();
            let mut first = true;
            if json {
                let _ = writeln!(out, "[");
            }
            vbolt::raw_entries(&tx, &table, None, b"", None, |k, v| {
                if json {
                    let sep = if first { "" } else { "," };
                    let entry = json!({ "key": show::json(k), "value": show::json(v) });
                    let _ = writeln!(out, "{sep}{entry}");
                } else {
                    let _ = writeln!(out, "{}\t{}", show_key(k), format.show(v));
                }
                first = false;
            })
            .map_err(operation)?;
            if json {
                let _ = writeln!(out, "]");
            }
        }
        Command::Check {
            file,
            quick,
            engine,
            json,
        } => {
            // An etcd cluster has no pages to verify: its members check
            // their own data.
            let engine = (engine || !quick) && !is_etcd(&file);
            let db = open(&file, false)?;
            // Copied while `db` holds the file open read-only.
            let engine_verdict = if engine {
                Some(engine_check::check_on_copy(&file).map_err(|e| fail(4, e))?)
            } else {
                None
            };
            let bar = progress_bar("checking");
            let r = vbolt::check(&db, report(&bar)).map_err(operation)?;
            bar.finish_and_clear();
            let engine_problem = match &engine_verdict {
                None | Some(Verdict::Clean) => None,
                Some(Verdict::Repairable) => Some(
                    "damage the engine can repair: `Db::check_engine` repairs it in place, \
                     possibly returning to the previous commit (back the file up first)"
                        .to_string(),
                ),
                Some(Verdict::Damaged(why)) => {
                    Some(format!("damage the engine cannot repair: {why}"))
                }
            };
            let problems = r.problem_count + u64::from(engine_problem.is_some());
            let ok = problems == 0;
            if json {
                print_json(&json!({
                    "ok": ok,
                    "tables": r.tables, "entries": r.entries, "indexes": r.indexes,
                    "engine_clean": engine_verdict.as_ref().map(|v| matches!(v, Verdict::Clean)),
                    "engine_problem": engine_problem,
                    "problem_count": problems,
                    "problems": r.problems.iter().map(|p| json!({"table": p.table, "what": p.what})).collect::<Vec<_>>(),
                    "declarations_recorded": r.declarations_recorded,
                    "undeclared": r.undeclared,
                }));
            } else {
                for name in &r.undeclared {
                    println!(
                        "{name}: declared nowhere (not in the program's declarations as last \
                         recorded by ensure_buckets)"
                    );
                }
                if let Some(what) = &engine_problem {
                    println!("engine: {what}");
                }
                for p in &r.problems {
                    println!("{}: {}", p.table, p.what);
                }
                println!(
                    "{}: {} tables, {} entries, {} indexes read; {}{}",
                    if ok { "ok" } else { "PROBLEMS" },
                    r.tables,
                    r.entries,
                    r.indexes,
                    counted(problems, "problem"),
                    if engine_verdict.is_some() {
                        "; page checksums verified"
                    } else if is_etcd(&file) {
                        " (on etcd: no page checksums to verify)"
                    } else {
                        " (page checksums not verified: --quick)"
                    }
                );
            }
            if !ok {
                return Err(fail(1, format!("{} found", counted(problems, "problem"))));
            }
        }
        Command::Backup { file, out } => {
            let db = open(&file, false)?;
            let bar = progress_bar("backing up");
            let summary = if out.as_os_str() == "-" {
                let stdout = std::io::BufWriter::new(std::io::stdout().lock());
                vbolt::backup(&db, stdout, &BackupOptions::all(), report(&bar))
            } else {
                if out.exists() {
                    return Err(fail(
                        4,
                        format!("{} exists; not overwriting it", out.display()),
                    ));
                }
                // Written beside OUT with FILE's permissions, synced, then
                // linked into place: OUT appears complete or not at all.
                vbolt::backup_to_path(&db, &out, &BackupOptions::all(), report(&bar))
            }
            .map_err(operation)?;
            bar.finish_and_clear();
            eprintln!(
                "backed up {} tables, {} entries, {} bytes",
                summary.tables, summary.entries, summary.bytes
            );
        }
        Command::Restore { backup, file } => {
            let input: Box<dyn std::io::Read> = if backup.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                let f = std::fs::File::open(&backup)
                    .map_err(|e| fail(3, format!("{}: {e}", backup.display())))?;
                Box::new(std::io::BufReader::new(f))
            };
            let bar = progress_bar("restoring");
            let summary = if is_etcd(&file) {
                let db = open(&file, true)?;
                vbolt::restore_into(&db, input, report(&bar))
            } else {
                vbolt::restore(input, &file, report(&bar))
            }
            .map_err(operation)?;
            bar.finish_and_clear();
            eprintln!(
                "restored {} tables, {} entries into {}",
                summary.tables,
                summary.entries,
                file.display()
            );
        }
        Command::Compact { file, out } => {
            file_only(&file, "compact")?;
            let bar = progress_bar("compacting");
            let sizes = match &out {
                Some(out) => {
                    let db = open(&file, false)?;
                    vbolt::compact_into(&db, out, report(&bar))
                }
                None => {
                    let mut db = open(&file, true)?;
                    let sizes = vbolt::compact(&mut db, report(&bar)).map_err(operation)?;
                    // Closing writes the engine's bookkeeping: the size the
                    // file is left with is measured after it.
                    drop(db);
                    let after = std::fs::metadata(&file)
                        .map_err(|e| fail(4, format!("{}: {e}", file.display())))?
                        .len();
                    Ok(vbolt::Compacted { after, ..sizes })
                }
            }
            .map_err(operation)?;
            bar.finish_and_clear();
            println!(
                "before: {} bytes\nafter:  {} bytes",
                sizes.before, sizes.after
            );
        }
        Command::Recover { file } => {
            file_only(&file, "recover")?;
            // A read-write open recovers the file; closing it leaves it clean.
            drop(open(&file, true)?);
            println!("{}: recovered; it opens read-only now", file.display());
        }
    }
    Ok(())
}

/// The message of the last panic, kept instead of printed: the storage
/// engine panics on some damaged pages, vbolt turns each such panic into an
/// error, and the default hook would print "thread 'main' panicked" above
/// the error the user should read. A panic that reaches `main` (a bug) is
/// printed from here.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let mut last = LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(info.to_string());
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            eprintln!("vbolt: {}", f.message);
            ExitCode::from(f.code)
        }
        Err(_) => {
            let last = LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!(
                "vbolt: internal error (a bug, please report it): {}",
                last.as_deref().unwrap_or("unknown panic")
            );
            ExitCode::from(101)
        }
    }
}

/// `n` and `noun`, plural unless `n` is 1: "1 problem", "0 problems".
fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
