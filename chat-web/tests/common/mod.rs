//! A chat-web server on a loopback port for the tests, and a client per
//! user (each with its own cookie jar, like a browser).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// A server on 127.0.0.1 with its own database file; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub db: Arc<vbolt::Db>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server without rate limits: every test client is on 127.0.0.1.
    pub async fn start() -> Server {
        Server::start_with(chat_web::limits::Limits::without_rate_limits()).await
    }

    /// A server within `limits`.
    pub async fn start_with(limits: chat_web::limits::Limits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(chat_web::open_db(&dir.path().join("chat.vbolt")).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(chat_web::serve_with(
            listener,
            db.clone(),
            limits,
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            db,
            stop: Some(stop),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client with an empty cookie jar.
    pub fn client(&self) -> User {
        User {
            http: Client::builder().cookie_store(true).build().unwrap(),
            base: self.url(""),
            id: String::new(),
            handle: String::new(),
        }
    }

    /// A new account, logged in.
    pub async fn user(&self, handle: &str) -> User {
        let mut user = self.client();
        let res = user.signup(handle, "correct horse").await;
        assert_eq!(res.status(), StatusCode::CREATED, "signing up {handle}");
        let body: Value = res.json().await.unwrap();
        user.id = body["id"].as_str().unwrap().to_string();
        user.handle = handle.to_string();
        user
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One person's browser: a client with its own cookies.
pub struct User {
    pub http: Client,
    pub base: String,
    pub id: String,
    pub handle: String,
}

impl User {
    pub async fn signup(&self, handle: &str, password: &str) -> Response {
        self.post(
            "/api/signup",
            json!({"handle": handle, "password": password}),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// GET that must answer 200; its JSON.
    pub async fn ok(&self, path: &str) -> Value {
        let res = self.get(path).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Starts a thread with `others`; its id.
    pub async fn start_thread(&self, others: &[&str], text: Option<&str>) -> String {
        let mut body = json!({ "with": others });
        if let Some(t) = text {
            body["text"] = json!(t);
        }
        let res = self.post("/api/threads", body).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Posts `text` to `thread`; the message's id.
    pub async fn say(&self, thread: &str, text: &str) -> String {
        let res = self
            .post(
                &format!("/api/threads/{thread}/messages"),
                json!({ "text": text }),
            )
            .await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Every message of `thread`, newest first, walked page by page.
    pub async fn all_messages(&self, thread: &str, limit: usize) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self
                .ok(&format!(
                    "/api/threads/{thread}/messages?limit={limit}&cursor={cursor}"
                ))
                .await;
            all.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => cursor = next.to_string(),
                None => return all,
            }
        }
    }
}

/// Asserts a 4xx answer with a JSON error `code`.
pub async fn refused(res: Response, status: StatusCode, code: &str) {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"], code, "{text}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// Reads Server-Sent Events from a response: the next event's name.
pub async fn next_event(res: &mut reqwest::Response, buffer: &mut String) -> Option<String> {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(name) = block.lines().find_map(|l| l.strip_prefix("event: ")) {
                return Some(name.to_string());
            }
            continue; // a keep-alive comment
        }
        let chunk = tokio::time::timeout(Duration::from_secs(20), res.chunk())
            .await
            .expect("an event within 20 s")
            .unwrap()?;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}
