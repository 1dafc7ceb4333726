//! One module per group of commands; each command is a function taking its
//! parsed arguments.

pub mod check;
pub mod entries;
pub mod ops;
pub mod tables;

use std::path::PathBuf;

use clap::Args;

/// The database a command works on.
#[derive(Args)]
pub struct Target {
    /// A database file, or a database on an etcd cluster:
    /// etcd://HOST:PORT[,HOST:PORT...]/PREFIX
    pub file: PathBuf,
}

/// Machine-readable output.
#[derive(Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn print_json(v: &serde_json::Value) {
    println!("{v:#}");
}
