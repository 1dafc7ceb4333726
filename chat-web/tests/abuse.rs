//! The chat under abuse: what one client, or one script with many
//! connections, can make the server do. Each bound of
//! `chat_web::limits::Limits` is pushed past here, and the server must
//! answer, refuse with the documented status, or close, and stay within
//! its memory. The login burst, which measures the server's memory and
//! latency, has a test binary of its own (`login_burst.rs`), so that no
//! other test runs beside it.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use chat_web::limits::{Limits, Rate};
use common::{Server, next_event, refused};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Limits with every rate limit off and `f` applied.
fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::without_rate_limits();
    f(&mut l);
    l
}

/// A client whose requests come from `ip` (any of 127.0.0.0/8 works on
/// Linux's loopback).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(target_os = "linux"), ignore = "clients on 127.0.0.2 and up")]
async fn logins_are_limited_per_address_with_retry_after() {
    let server = Server::start_with(limits(|l| {
        l.logins_per_address = Rate::new(3, Duration::from_secs(60));
    }))
    .await;
    let login = |http: reqwest::Client| {
        let url = server.url("/api/login");
        async move {
            http.post(url)
                .json(&json!({"handle": "nobody", "password": "wrong horse"}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = client_from("127.0.0.1");
    for _ in 0..3 {
        assert_eq!(
            login(first.clone()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = login(first.clone()).await;
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    refused(res, StatusCode::TOO_MANY_REQUESTS, "slow_down").await;
    // Another address is not held back by the first one's attempts.
    let second = client_from("127.0.0.2");
    assert_eq!(login(second).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(target_os = "linux"), ignore = "clients on 127.0.0.2 and up")]
async fn signups_are_limited_per_address() {
    let server = Server::start_with(limits(|l| {
        l.signups_per_address = Rate::new(2, Duration::from_secs(600));
    }))
    .await;
    let signup = |http: &reqwest::Client, handle: &str| {
        http.post(server.url("/api/signup"))
            .json(&json!({"handle": handle, "password": "correct horse"}))
            .send()
    };
    let one = client_from("127.0.0.1");
    assert_eq!(
        signup(&one, "a1").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        signup(&one, "a2").await.unwrap().status(),
        StatusCode::CREATED
    );
    let res = signup(&one, "a3").await.unwrap();
    assert!(retry_after(&res) >= 60, "one signup per 10 minutes");
    refused(res, StatusCode::TOO_MANY_REQUESTS, "slow_down").await;
    let other = client_from("127.0.0.3");
    assert_eq!(
        signup(&other, "a3").await.unwrap().status(),
        StatusCode::CREATED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(target_os = "linux"), ignore = "clients on 127.0.0.2 and up")]
async fn failed_logins_are_limited_per_handle_from_any_address() {
    let server = Server::start_with(limits(|l| {
        l.failed_logins_per_handle = Rate::new(2, Duration::from_secs(60));
    }))
    .await;
    server.user("ann").await;
    server.user("bo").await;
    let login = |ip: &str, handle: &str, password: &str| {
        client_from(ip)
            .post(server.url("/api/login"))
            .json(&json!({"handle": handle, "password": password}))
            .send()
    };
    // Two wrong guesses from two addresses use up ann's failures...
    for ip in ["127.0.0.4", "127.0.0.5"] {
        let res = login(ip, "ann", "wrong horse").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // ...so a third address, even with the right password, waits.
    let res = login("127.0.0.6", "ann", "correct horse").await.unwrap();
    refused(res, StatusCode::TOO_MANY_REQUESTS, "slow_down").await;
    // Other handles are not held back.
    let res = login("127.0.0.6", "bo", "correct horse").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Successful logins cost nothing.
    for _ in 0..3 {
        let res = login("127.0.0.7", "bo", "correct horse").await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}

/// A session written straight into the database, expiring `after` from
/// now (negative: already expired); its cookie header.
fn session(server: &Server, user: &str, after: i64) -> String {
    let id: uuid::Uuid = user.parse().unwrap();
    let lifetime = chat_web::accounts::SESSION_LIFETIME;
    let now = SystemTime::now();
    let start = if after >= 0 {
        now - lifetime + Duration::from_secs(after as u64)
    } else {
        now - lifetime - Duration::from_secs(after.unsigned_abs())
    };
    let token = server
        .db
        .update(|tx| chat_web::accounts::start_session(tx, id, start))
        .unwrap();
    format!("chat_session={token}")
}

fn session_count(server: &Server) -> usize {
    server
        .db
        .view(|tx| {
            vbolt::entries(tx, &chat_web::accounts::SESSIONS).try_fold(0, |n, e| e.map(|_| n + 1))
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_refused_and_removed_on_use() {
    let server = Server::start().await;
    let ann = server.user("ann").await;
    let expired = session(&server, &ann.id, -5);
    assert_eq!(session_count(&server), 2);
    let res = reqwest::Client::new()
        .get(server.url("/api/me"))
        .header("cookie", &expired)
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::UNAUTHORIZED, "not_logged_in").await;
    assert_eq!(session_count(&server), 1, "the expired session is gone");
    assert_eq!(ann.ok("/api/me").await["handle"], "ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_removes_expired_sessions_and_keeps_live_ones() {
    let server = Server::start_with(limits(|l| l.sweep_every = Duration::from_millis(200))).await;
    let ann = server.user("ann").await;
    for _ in 0..3 {
        session(&server, &ann.id, -1);
    }
    let live = session(&server, &ann.id, 3600);
    assert_eq!(session_count(&server), 5);
    let deadline = Instant::now() + Duration::from_secs(10);
    while session_count(&server) > 2 {
        assert!(Instant::now() < deadline, "expired sessions still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        session_count(&server),
        2,
        "signup's session and the live one"
    );
    let res = reqwest::Client::new()
        .get(server.url("/api/me"))
        .header("cookie", &live)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Reads from `stream` until it closes or `within` passes: what it read,
/// and whether it closed.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, within: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_cut_off_at_the_deadline() {
    let server =
        Server::start_with(limits(|l| l.header_timeout = Duration::from_millis(500))).await;
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /api/me HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(
        closed,
        "a connection that never finishes its headers is closed"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    // An idle connection, no byte sent, is closed too.
    let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(closed);
    // A request sent in time is answered.
    let mut prompt = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    prompt
        .write_all(b"GET /api/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut prompt, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_bound_wait_until_one_closes() {
    let server = Server::start_with(limits(|l| l.connections = 3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = reqwest::Client::new();
    let waiting = http
        .get(server.url("/api/me"))
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a fourth connection is not served: {waiting:?}"
    );
    drop(held.pop());
    let res = http
        .get(server.url("/api/me"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "served once one closed"
    );
}

/// Waits for the next event; `None` once the stream has ended (or broke).
async fn event_or_end(res: &mut reqwest::Response, buf: &mut String) -> Option<String> {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(name) = block.lines().find_map(|l| l.strip_prefix("event: ")) {
                return Some(name.to_string());
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .expect("the stream neither sent nor ended within 10 s");
        match chunk {
            Ok(Some(c)) => buf.push_str(&String::from_utf8_lossy(&c)),
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_session_and_in_all() {
    let server = Server::start_with(limits(|l| {
        l.streams_per_session = 2;
        l.streams = 3;
    }))
    .await;
    let (ann, bo) = (server.user("ann").await, server.user("bo").await);
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut res = ann.get("/api/events").await;
        assert_eq!(res.status(), StatusCode::OK);
        let mut buf = String::new();
        assert_eq!(
            next_event(&mut res, &mut buf).await.as_deref(),
            Some("ready")
        );
        open.push(res);
    }
    refused(
        ann.get("/api/events").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_streams",
    )
    .await;
    let mut third = bo.get("/api/events").await;
    assert_eq!(third.status(), StatusCode::OK);
    let mut buf = String::new();
    assert_eq!(
        next_event(&mut third, &mut buf).await.as_deref(),
        Some("ready")
    );
    let res = bo.get("/api/events").await;
    assert!(retry_after(&res) >= 1);
    refused(res, StatusCode::SERVICE_UNAVAILABLE, "too_many_streams").await;
    // A closed stream gives its place back.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = ann.get("/api/events").await;
        if res.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_ends_with_its_session() {
    let server = Server::start().await;
    let (ann, bo) = (server.user("ann").await, server.user("bo").await);
    let thread = bo.start_thread(&["ann"], Some("hi")).await;
    let mut events = ann.get("/api/events").await;
    let mut buf = String::new();
    assert_eq!(
        event_or_end(&mut events, &mut buf).await.as_deref(),
        Some("ready")
    );
    bo.say(&thread, "still there?").await;
    assert_eq!(
        event_or_end(&mut events, &mut buf).await.as_deref(),
        Some("activity")
    );
    assert_eq!(
        ann.post("/api/logout", json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    bo.say(&thread, "after the logout").await;
    assert_eq!(
        event_or_end(&mut events, &mut buf).await,
        None,
        "no activity after logout: the stream ends"
    );

    // Expiry ends a stream too, even with nothing written.
    let cy = server.user("cy").await;
    let short = session(&server, &cy.id, 1);
    let mut events = reqwest::Client::new()
        .get(server.url("/api/events"))
        .header("cookie", &short)
        .send()
        .await
        .unwrap();
    let mut buf = String::new();
    assert_eq!(
        event_or_end(&mut events, &mut buf).await.as_deref(),
        Some("ready")
    );
    let t = Instant::now();
    assert_eq!(event_or_end(&mut events, &mut buf).await, None);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_from_other_origins_or_without_json_are_refused() {
    let server = Server::start().await;
    let ann = server.user("ann").await;
    let logout = |origin: Option<&str>, content_type: Option<&str>| {
        let mut req = ann.http.post(server.url("/api/logout")).body("{}");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(c) = content_type {
            req = req.header("content-type", c);
        }
        req.send()
    };
    let json = Some("application/json");
    let other_port = format!("http://127.0.0.1:{}", server.addr.port() + 1);
    for origin in [other_port.as_str(), "http://evil.example", "null"] {
        let res = logout(Some(origin), json).await.unwrap();
        refused(res, StatusCode::FORBIDDEN, "cross_origin").await;
    }
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let res = logout(None, content_type).await.unwrap();
        refused(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json").await;
    }
    assert_eq!(ann.ok("/api/me").await["handle"], "ann", "still logged in");
    let own = format!("http://{}", server.addr);
    let res = logout(Some(&own), json).await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_answers_are_not_sniffed_or_stored() {
    let server = Server::start().await;
    let ann = server.user("ann").await;
    for res in [
        ann.get("/api/me").await,
        ann.get("/api/no/such/route").await,
        server.client().get("/api/threads").await,
    ] {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{}", res.status());
        assert_eq!(h["cache-control"], "no-store", "{}", res.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_session_cookies_are_refused() {
    let server = Server::start().await;
    let ann = server.user("ann").await;
    let mine = session(&server, &ann.id, 3600);
    let planted = "chat_session=00ff00ff";
    for cookies in [format!("{planted}; {mine}"), format!("{mine}; {planted}")] {
        let res = reqwest::Client::new()
            .get(server.url("/api/me"))
            .header("cookie", cookies)
            .send()
            .await
            .unwrap();
        refused(res, StatusCode::BAD_REQUEST, "duplicate_session_cookie").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_in_names_and_messages() {
    let server = Server::start().await;
    let client = server.client();
    for name in [
        "nul\0",
        "rlo\u{202e}gnp.exe",
        "line\nbreak",
        "esc\u{1b}[31m",
    ] {
        let res = client
            .post(
                "/api/signup",
                json!({"handle": "zed", "password": "correct horse", "display_name": name}),
            )
            .await;
        refused(res, StatusCode::BAD_REQUEST, "bad_display_name").await;
    }
    let ann = server.user("ann").await;
    server.user("bo").await;
    let thread = ann.start_thread(&["bo"], None).await;
    let messages = format!("/api/threads/{thread}/messages");
    for text in ["nul\0byte", "\u{202e}reversed", "bell\u{7}"] {
        let res = ann.post(&messages, json!({ "text": text })).await;
        refused(res, StatusCode::BAD_REQUEST, "bad_text").await;
    }
    let res = ann
        .post(&messages, json!({"text": "two\nlines\tand a tab 🦀"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_are_not_http_get_a_json_error_too() {
    let server = Server::start().await;
    let ask = |raw: Vec<u8>| async move {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        s.write_all(&raw).await.unwrap();
        read_until_closed(&mut s, Duration::from_secs(5)).await.0
    };
    let huge_header = format!(
        "GET /api/me HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(600_000)
    );
    for (raw, code) in [
        (
            b"GET /api/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "bad_request",
        ),
        (
            b"GET /api/me HTTP/1.1\r\nBad Header\r\n\r\n".to_vec(),
            "bad_request",
        ),
        (huge_header.into_bytes(), "headers_too_large"),
    ] {
        let answer = ask(raw).await;
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{answer:?}"));
        assert!(head.starts_with("HTTP/1.1 4"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let v: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|_| panic!("{body:?}"));
        assert_eq!(v["error"], code, "{answer}");
    }
    // A percent-encoded path that is not UTF-8 reaches the routes.
    let ann = server.user("ann").await;
    let res = ann.get("/api/threads/%FF%FE/messages").await;
    refused(res, StatusCode::BAD_REQUEST, "bad_path").await;
}
