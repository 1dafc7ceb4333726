//! `chat-web [--addr 127.0.0.1:8080] [--db data/chat-web.vbolt]
//! [--rate-limits on|off]`: serves the group chat and prints the address
//! to open. The bounds are [`chat_web::limits::Limits::default`];
//! `--rate-limits off` lifts the per-address and per-handle limits (behind
//! a proxy that limits, or for a load test from one machine). The database lives in
//! `data/` beside the demo's (which git ignores), in a file of its own:
//! the scripted demo recreates `data/chat.vbolt` on every run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chat_web::limits::Limits;

const USAGE: &str =
    "usage: chat-web [--addr 127.0.0.1:8080] [--db data/chat-web.vbolt] [--rate-limits on|off]";

fn parse() -> Result<(SocketAddr, PathBuf, Limits), String> {
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().expect("a valid address");
    let mut db = PathBuf::from("data/chat-web.vbolt");
    let mut limits = Limits::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--addr" => {
                let v = value?;
                addr = v.parse().map_err(|e| format!("--addr {v:?}: {e}"))?;
            }
            "--db" => db = PathBuf::from(value?),
            "--rate-limits" => match value?.as_str() {
                "on" => limits = Limits::default(),
                "off" => limits = Limits::without_rate_limits(),
                v => return Err(format!("--rate-limits {v:?}: on or off\n{USAGE}")),
            },
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    Ok((addr, db, limits))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, path, limits) = match parse() {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let db = match chat_web::open_db(&path) {
        Ok(db) => Arc::new(db),
        Err(e) => {
            eprintln!("chat-web: cannot open {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("chat-web: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shown = listener.local_addr().map_or(addr, |a| a);
    println!("chat-web: serving {} on http://{shown}/", path.display());
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match chat_web::serve_with(listener, db, limits, stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-web: {e}");
            ExitCode::FAILURE
        }
    }
}
