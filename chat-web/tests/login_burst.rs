//! The finding that opened chat-web's bounds: 50 concurrent failed logins
//! for 10 s took 6.07 GiB and two seconds per request. Alone in its test
//! binary, so that nothing else competes for the cores it measures on.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

/// The chat-web binary on a loopback port, in its own process so that
/// its memory can be read from /proc.
struct Process {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Process {
    fn start(args: &[&str]) -> Process {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chat.vbolt");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-web"))
            .args(["--addr", "127.0.0.1:0", "--db", db.to_str().unwrap()])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "chat-web: serving <db> on http://<addr>/"
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Process {
            child,
            addr,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A field of /proc/<pid>/status in KiB (`VmRSS`, `VmHWM`).
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * p) as usize]
}

/// Rate limits are off here (as for a botnet with
/// many addresses), so only the bound on hashing stands between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
async fn a_login_burst_keeps_memory_bounded_and_the_server_answering() {
    let server = Process::start(&["--rate-limits", "off"]);
    let ann = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = ann
        .post(server.url("/api/signup"))
        .json(&json!({"handle": "ann", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let idle = server.memory_kib("VmRSS");

    let burst = Duration::from_secs(10);
    let start = Instant::now();
    let attackers: Vec<_> = (0..50)
        .map(|i| {
            let url = server.url("/api/login");
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut answers = Vec::new();
                while start.elapsed() < burst {
                    let guess = json!({"handle": if i % 2 == 0 { "ann" } else { "nobody" },
                                       "password": format!("guess {i} {}", answers.len())});
                    let sent = http
                        .post(&url)
                        .json(&guess)
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    answers.push(sent.map(|r| r.status()).map_err(|e| e.to_string()));
                }
                answers
            })
        })
        .collect();
    let me_url = server.url("/api/me");
    let me = tokio::spawn(async move {
        let mut times = Vec::new();
        while start.elapsed() < burst {
            let t = Instant::now();
            let res = ann.get(&me_url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            times.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        times
    });
    let mut peak_rss = 0;
    while start.elapsed() < burst {
        peak_rss = peak_rss.max(server.memory_kib("VmRSS"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut refused = 0;
    let mut busy = 0;
    for a in attackers {
        for answer in a.await.unwrap() {
            match answer {
                Ok(StatusCode::UNAUTHORIZED) => refused += 1,
                Ok(StatusCode::SERVICE_UNAVAILABLE) => busy += 1,
                other => panic!("every request gets 401 or 503, got {other:?}"),
            }
        }
    }
    let mut me_times = me.await.unwrap();
    let peak = server.memory_kib("VmHWM");
    let p99 = percentile(&mut me_times, 0.99);
    eprintln!(
        "burst: {refused} refused (hashed), {busy} busy; memory idle {} MiB, peak {} MiB \
         (sampled {} MiB); /api/me p50 {:?} p99 {:?} over {} requests",
        idle / 1024,
        peak / 1024,
        peak_rss / 1024,
        percentile(&mut me_times, 0.5),
        p99,
        me_times.len()
    );
    assert!(refused > 0, "some guesses were hashed and refused");
    assert!(
        peak.saturating_sub(idle) < 256 * 1024,
        "peak {peak} KiB, idle {idle} KiB"
    );
    assert!(p99 < Duration::from_millis(100), "/api/me p99 {p99:?}");
}
