//! `vbolt`: inspect and operate vbolt database files without writing code.
//!
//! Read commands open the file read-only and never change it; the commands
//! that write (`restore`, `compact`, `recover`, `info --space`) say so in
//! their help.
//!
//! - `cmd/`: one function per command, with its arguments;
//! - `target.rs`: opening a file or an etcd database, naming a table;
//! - `exit.rs`: exit codes (the help text is generated from them);
//! - `show.rs`: keys and values as text, hex or JSON; `progress.rs`: bars;
//! - `engine_check.rs`: the engine's page check, on a scratch copy.

mod cmd;
mod decoded;
mod engine_check;
mod exit;
mod progress;
mod show;
mod target;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cmd::check::CheckArgs;
use cmd::entries::{DumpArgs, GetArgs, KeysArgs};
use cmd::ops::{BackupArgs, CompactArgs, LoadArgs, RecoverArgs, RestoreArgs};
use cmd::tables::{BucketsArgs, InfoArgs};
use exit::{Exit, Failure};
use show::KEY_HELP;

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
  vbolt dump app.vbolt > app.jsonl && vbolt load app.jsonl copy.vbolt
  vbolt info etcd://10.0.0.1:2379,10.0.0.2:2379/app/   (built with --features etcd)

In place of a file, the read commands and `backup` take a database kept on
an etcd cluster: etcd://HOST:PORT[,HOST:PORT...]/PREFIX.

A running application holds its database file for itself: no command works
on it meanwhile (exit code 3, \"in use\"). Stop the application first, or
have it write a backup from inside (`vbolt::backup_to_path`, for example
behind an admin endpoint) and inspect a restored copy of that.

{}", Exit::help())
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// File size, engine, and every bucket and index with its entry count
    /// and tree shape (depth: pages a lookup visits; leaf and branch pages).
    Info(InfoArgs),
    /// Buckets and indexes with their entry counts.
    Buckets(BucketsArgs),
    /// Keys of a bucket (or of any engine table, by its full name).
    #[command(after_help = KEY_HELP)]
    Keys(KeysArgs),
    /// The value stored under one key.
    #[command(after_help = KEY_HELP)]
    Get(GetArgs),
    /// Every entry of a bucket (or engine table); without BUCKET, the whole
    /// database as JSON lines (a table line, then its entries in hex, with
    /// decoded forms where the file describes them), for `load`.
    Dump(DumpArgs),
    /// Reads every entry and checks every index's consistency (read-only).
    Check(CheckArgs),
    /// Writes a consistent, checksummed backup of FILE to OUT (`-`: stdout).
    Backup(BackupArgs),
    /// Restores BACKUP (`-`: stdin) into the new database file FILE
    /// (writes FILE; never overwrites an existing one), or into an empty
    /// database on an etcd cluster (in batches: not atomic; start over
    /// under a new prefix if it fails).
    Restore(RestoreArgs),
    /// Builds the new database file FILE (never overwrites one) from a
    /// whole-database dump DUMP (`-`: stdin); a damaged dump is refused
    /// with its line number.
    Load(LoadArgs),
    /// Compacts FILE in place (writes FILE), or into the new file OUT.
    Compact(CompactArgs),
    /// Runs crash recovery on FILE, whose last writer did not close it
    /// (writes FILE): what the application's next open would do. The read
    /// commands open read-only, which cannot recover a file.
    Recover(RecoverArgs),
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Info(args) => cmd::tables::info(args),
        Command::Buckets(args) => cmd::tables::buckets(args),
        Command::Keys(args) => cmd::entries::keys(args),
        Command::Get(args) => cmd::entries::get(args),
        Command::Dump(args) => cmd::entries::dump(args),
        Command::Check(args) => cmd::check::check(args),
        Command::Backup(args) => cmd::ops::backup(args),
        Command::Restore(args) => cmd::ops::restore(args),
        Command::Load(args) => cmd::ops::load(args),
        Command::Compact(args) => cmd::ops::compact(args),
        Command::Recover(args) => cmd::ops::recover(args),
    }
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
            ExitCode::from(f.exit as u8)
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
