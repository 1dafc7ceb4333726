//! The chat in a real browser: two users in two headless Chromium
//! sessions, driven over WebDriver. One posts, the other sees the thread
//! appear with its unread marker and the message arrive without reloading;
//! "Older messages" then walks the whole thread. A screenshot of each step
//! is saved under `target/tmp/chat-web-browser/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them when missing). Without them the test says it is skipped and
//! passes, unless `VBOLT_REQUIRE_BROWSER=1` (which `.ci/run` sets) makes
//! their absence a failure.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;

use common::Server;
use serde_json::json;
use webdriver::{Browser, Driver};

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chat-web-browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn sign_up(browser: &Browser, url: &str, handle: &str) {
    browser.open(url).await;
    browser.fill("#handle", handle).await;
    browser.fill("#password", "correct horse").await;
    browser.click("#signup").await;
    browser
        .wait_for(
            &format!("{handle} logged in, live"),
            "return document.getElementById('live').className === 'on'",
        )
        .await;
    let form_shown = browser
        .eval("return getComputedStyle(document.getElementById('welcome')).display !== 'none'")
        .await;
    assert_eq!(
        form_shown,
        json!(false),
        "the login form is hidden once logged in"
    );
}

fn count(css: &str) -> String {
    format!("return document.querySelectorAll({css:?}).length")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_live_and_page_back_through_history() {
    let Some(driver) = Driver::start_or_skip().await else {
        return;
    };
    let server = Server::start().await;
    let url = server.url("/");
    let shots = shots();
    let profiles = tempfile::tempdir().unwrap();
    let ann = driver.browser(&profiles.path().join("ann")).await;
    let bo = driver.browser(&profiles.path().join("bo")).await;

    sign_up(&ann, &url, "ann").await;
    sign_up(&bo, &url, "bo").await;
    ann.screenshot(&shots.join("1-ann-signed-up.png")).await;

    // ann starts a thread with bo.
    ann.fill("#new-with", "bo").await;
    ann.fill("#new-text", "Hello bo!").await;
    ann.click("#start").await;
    ann.wait_for(
        "ann sees her first message",
        &format!("{} === 1", count("#messages li")),
    )
    .await;
    ann.screenshot(&shots.join("2-ann-started-a-thread.png"))
        .await;

    // bo sees it appear, unread, without reloading.
    bo.wait_for(
        "the thread in bo's list, unread",
        &format!("{} === 1", count("#threads li.unread")),
    )
    .await;
    bo.screenshot(&shots.join("3-bo-sees-unread.png")).await;

    // Opening it shows the message and clears the marker.
    bo.click("#threads li").await;
    bo.wait_for(
        "bo reads the message",
        "return [...document.querySelectorAll('#messages li .text')].map(e => e.textContent).join() === 'Hello bo!'",
    )
    .await;
    bo.wait_for(
        "the unread marker clears",
        &format!("{} === 0", count("#threads li.unread")),
    )
    .await;

    // ann posts; bo, on the open thread, sees it arrive live.
    ann.fill("#text", "Are you there?").await;
    ann.click("#send").await;
    bo.wait_for(
        "ann's new message in bo's open thread",
        "return [...document.querySelectorAll('#messages li .text')].some(e => e.textContent === 'Are you there?')",
    )
    .await;
    bo.screenshot(&shots.join("4-bo-sees-the-reply-live.png"))
        .await;
    assert_eq!(
        bo.eval(&count("#threads li.unread")).await,
        json!(0),
        "bo has it open: read"
    );

    // A long history, posted through the API as ann.
    let api = server.client();
    let res = api
        .post(
            "/api/login",
            json!({"handle": "ann", "password": "correct horse"}),
        )
        .await;
    assert!(res.status().is_success());
    let thread = api.ok("/api/threads").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut expected = vec!["Hello bo!".to_string(), "Are you there?".to_string()];
    for i in 0..70 {
        let text = format!("history {i:02}");
        api.say(&thread, &text).await;
        expected.push(text);
    }

    // bo comes back later: a fresh page shows the newest 30; "Older
    // messages" walks back to the first.
    bo.open(&url).await;
    bo.wait_for(
        "bo's list after reload",
        &format!("{} === 1", count("#threads li")),
    )
    .await;
    bo.click("#threads li").await;
    bo.wait_for(
        "the newest page",
        &format!("{} === 30", count("#messages li")),
    )
    .await;
    let mut pages = 1;
    while bo
        .eval("return !document.getElementById('older').hidden")
        .await
        == json!(true)
    {
        let before = bo.eval(&count("#messages li")).await;
        bo.click("#older").await;
        bo.wait_for(
            "an older page",
            &format!("{} > {before}", count("#messages li")),
        )
        .await;
        pages += 1;
        assert!(pages <= 10, "paging does not end");
    }
    let shown = bo
        .eval("return [...document.querySelectorAll('#messages li .text')].map(e => e.textContent)")
        .await;
    assert_eq!(
        shown,
        json!(expected),
        "the whole thread, oldest first, once each"
    );
    assert_eq!(pages, 3, "72 messages in pages of 30");
    bo.eval("document.getElementById('messages').scrollTop = 0; return true")
        .await;
    bo.screenshot(&shots.join("5-bo-paged-to-the-first-message.png"))
        .await;

    ann.quit().await;
    bo.quit().await;
}
