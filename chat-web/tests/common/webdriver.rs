//! A small WebDriver client (the W3C protocol over HTTP and JSON) for
//! driving headless Chromium through chromedriver.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process on a loopback port; killed when dropped.
pub struct Driver {
    process: Child,
    base: String,
    http: reqwest::Client,
}

/// Set (to anything but `0`) to make a missing browser a failure instead
/// of a skipped test: `.ci/run` sets it, so CI always runs the browser.
pub const REQUIRE: &str = "VBOLT_REQUIRE_BROWSER";

/// True if a program called `name` is on `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

impl Driver {
    /// Starts `chromedriver` and waits until it answers; `None` (with a
    /// line saying the test is skipped and why) when Chromium or its
    /// driver is not installed, unless [`REQUIRE`] is set.
    pub async fn start_or_skip() -> Option<Driver> {
        let missing: Vec<&str> = ["chromium", "chromedriver"]
            .into_iter()
            .filter(|p| !on_path(p))
            .collect();
        if missing.is_empty() {
            return Some(Driver::start().await);
        }
        let required = std::env::var(REQUIRE).is_ok_and(|v| v != "0");
        assert!(
            !required,
            "{REQUIRE} is set, but {missing:?} is not on PATH: install Debian's chromium and \
             chromium-driver (.ci/run does when they are missing)"
        );
        // Written to the stderr handle itself: the test harness captures
        // `eprintln!` of a passing test, and this line must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {missing:?} not installed (apt-get install chromium chromium-driver; set \
             {REQUIRE}=1 to make this a failure)"
        );
        None
    }

    /// Starts `chromedriver` and waits until it answers.
    pub async fn start() -> Driver {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}): install Debian's chromium and \
                     chromium-driver (.ci/run does when they are missing)"
                )
            });
        let driver = Driver {
            process,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
                && res.status().is_success()
            {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new headless browser with an empty profile in `profile`.
    pub async fn browser(&self, profile: &Path) -> Browser {
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--window-size=1100,760".to_string(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let res = self.call("POST", "/session", Some(caps)).await;
        let id = res["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_string();
        Browser {
            base: format!("{}/session/{id}", self.base),
            http: self.http.clone(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn call(http: &reqwest::Client, method: &str, url: &str, body: Option<Value>) -> Value {
    let req = match method {
        "GET" => http.get(url),
        "DELETE" => http.delete(url),
        _ => http.post(url).json(&body.unwrap_or(json!({}))),
    };
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status();
    let value: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{method} {url}: {status} {value}");
    value["value"].clone()
}

/// One browser session (its own cookies: one user).
pub struct Browser {
    base: String,
    http: reqwest::Client,
}

impl Browser {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    pub async fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_string()
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    /// Types `text` into the field (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call("POST", &format!("/element/{id}/clear"), None)
            .await;
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Runs `script` (a function body) in the page; its result.
    pub async fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits until `script` returns true; fails after 20 s naming `what`.
    pub async fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.eval(script).await != json!(true) {
            assert!(Instant::now() < deadline, "waited 20 s for: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.call("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn quit(self) {
        self.call("DELETE", "", None).await;
    }
}
