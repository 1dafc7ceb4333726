//! A bounded load on the chat server over loopback: N clients, each
//! posting to and paging its thread, with every request timed.
//!
//! `cargo run --release -p chat-web --example load -- [--clients 50] [--requests 40]`
//!
//! Starts the server in this process on a fresh database file (durable
//! commits), signs up the clients, then runs three phases, all clients at
//! once: each posts `--requests` messages to its thread; each reads the
//! newest page of 30 messages `--requests` times; each reads the page
//! after it (by cursor) `--requests` times. Prints requests per second
//! and latency percentiles for each phase, and the process's memory
//! (server and clients together, from /proc on Linux) after each phase.
//! The server runs without its per-address rate limits: every client
//! here is on 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    clients: usize,
    requests: usize,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        clients: 50,
        requests: 40,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a number"))?;
        let n: usize = value
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("{flag}: not a positive count: {value:?}"))?;
        match flag.as_str() {
            "--clients" => args.clients = n,
            "--requests" => args.requests = n,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(args)
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Value {
    let res = http.post(url).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

/// Runs `per_client` timed requests on every client at once; the wall time
/// and every latency.
async fn phase<F, Fut>(
    clients: &[reqwest::Client],
    per_client: usize,
    f: F,
) -> (Duration, Vec<Duration>)
where
    F: Fn(reqwest::Client, usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, http)| {
            let (http, f) = (http.clone(), f.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_client);
                for n in 0..per_client {
                    let t = Instant::now();
                    f(http.clone(), i, n).await;
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (start.elapsed(), all)
}

/// This process's resident memory now and at its peak, in MiB, from
/// /proc/self/status (`None` where there is none).
fn memory_mib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find_map(|l| l.strip_prefix(name))?;
        let kib: u64 = line
            .trim_start_matches(':')
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024)
    };
    Some((field("VmRSS")?, field("VmHWM")?))
}

fn memory_cell() -> String {
    memory_mib().map_or_else(|| "n/a".to_string(), |(rss, _)| rss.to_string())
}

fn report(name: &str, clients: usize, (wall, mut times): (Duration, Vec<Duration>)) {
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    println!(
        "| {name} | {clients} | {} | {:.0} | {:.2} | {:.2} | {} |",
        times.len(),
        times.len() as f64 / wall.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        memory_cell()
    );
}

#[tokio::main]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(chat_web::open_db(&dir.path().join("load.vbolt")).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(chat_web::serve_with(
        listener,
        db.clone(),
        chat_web::limits::Limits::without_rate_limits(),
        std::future::pending(),
    ));

    // Clients in threads of 10, each thread started by its first member.
    let mut clients = Vec::new();
    for i in 0..args.clients {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        post(
            &http,
            format!("{base}/api/signup"),
            json!({"handle": format!("u{i}"), "password": "load test"}),
        )
        .await;
        clients.push(http);
    }
    let mut threads = Vec::new();
    for first in (0..args.clients).step_by(10) {
        let others: Vec<String> = (first + 1..(first + 10).min(args.clients))
            .map(|i| format!("u{i}"))
            .collect();
        let others = if others.is_empty() {
            vec![format!("u{first}")]
        } else {
            others
        };
        let t = post(
            &clients[first],
            format!("{base}/api/threads"),
            json!({"with": others}),
        )
        .await;
        threads.push(t["id"].as_str().unwrap().to_string());
    }
    let threads = Arc::new(threads);

    println!("memory after signing up: {} MiB resident\n", memory_cell());
    println!("| request | clients | requests | requests/s | p50 ms | p99 ms | memory after, MiB |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let (b, t) = (base.clone(), threads.clone());
    let posts = phase(&clients, args.requests, move |http, i, n| {
        let url = format!("{b}/api/threads/{}/messages", t[i / 10]);
        async move {
            post(&http, url, json!({"text": format!("u{i} says {n}")})).await;
        }
    })
    .await;
    report("post", args.clients, posts);
    for older in [false, true] {
        // The newest page, or the page after it by cursor (fetched once per
        // thread beforehand): one request per timed operation.
        let mut urls = Vec::new();
        for (k, t) in threads.iter().enumerate() {
            let url = format!("{base}/api/threads/{t}/messages?limit=30");
            let page: Value = clients[k * 10]
                .get(&url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            urls.push(match (older, page["next"].as_str()) {
                (true, Some(next)) => format!("{url}&cursor={next}"),
                _ => url,
            });
        }
        let urls = Arc::new(urls);
        let pages = phase(&clients, args.requests, move |http, i, _| {
            let url = urls[i / 10].clone();
            async move {
                let page: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
                assert!(
                    page["items"].as_array().is_some_and(|a| !a.is_empty()),
                    "{page}"
                );
            }
        })
        .await;
        let name = if older {
            "page (older, by cursor)"
        } else {
            "page (newest)"
        };
        report(name, args.clients, pages);
    }
    let stats = db.commit_stats();
    println!(
        "\n{} updates in {} durable commits (group commit)",
        stats.updates, stats.commits
    );
    if let Some((rss, peak)) = memory_mib() {
        println!(
            "memory: {rss} MiB resident at the end, {peak} MiB at the peak (server and clients)"
        );
    }
}
