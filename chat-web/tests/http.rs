//! The chat's HTTP API against a real server on a loopback port: accounts,
//! authorization, bad input, paging, live events, and 50 concurrent
//! clients.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Server, next_event, refused};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_sign_up_log_in_and_out() {
    let server = Server::start().await;
    let ann = server.client();
    let res = ann.signup("ann", "correct horse").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["chat_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing from {cookie}");
    }
    assert_eq!(ann.ok("/api/me").await["handle"], "ann");

    // The password is stored as an Argon2id hash, never in clear.
    let id: uuid::Uuid = ann.ok("/api/me").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = server
        .db
        .view(|tx| vbolt::get(tx, &chat_web::accounts::PASSWORDS, id))
        .unwrap()
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("correct horse"));

    refused(
        ann.signup("ann", "another one").await,
        StatusCode::CONFLICT,
        "handle_taken",
    )
    .await;
    refused(
        ann.signup("Ann!", "correct horse").await,
        StatusCode::BAD_REQUEST,
        "bad_handle",
    )
    .await;
    refused(
        ann.signup("cy", "short").await,
        StatusCode::BAD_REQUEST,
        "bad_password",
    )
    .await;

    let res = ann.post("/api/logout", json!({})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused(
        ann.get("/api/me").await,
        StatusCode::UNAUTHORIZED,
        "not_logged_in",
    )
    .await;

    let wrong = json!({"handle": "ann", "password": "wrong horse"});
    refused(
        ann.post("/api/login", wrong).await,
        StatusCode::UNAUTHORIZED,
        "bad_login",
    )
    .await;
    let nobody = json!({"handle": "nobody", "password": "correct horse"});
    refused(
        ann.post("/api/login", nobody).await,
        StatusCode::UNAUTHORIZED,
        "bad_login",
    )
    .await;
    let right = json!({"handle": "ann", "password": "correct horse"});
    assert_eq!(ann.post("/api/login", right).await.status(), StatusCode::OK);
    assert_eq!(ann.ok("/api/me").await["handle"], "ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_out_session_cookie_opens_nothing() {
    let server = Server::start().await;
    let ann = server.user("ann").await;
    let token = {
        // Read the cookie the way a thief would: from a copied header.
        let res = ann
            .post(
                "/api/login",
                json!({"handle": "ann", "password": "correct horse"}),
            )
            .await;
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        cookie.split(';').next().unwrap().to_string()
    };
    let thief = reqwest::Client::new();
    let me = |c: &reqwest::Client| c.get(server.url("/api/me")).header("cookie", &token).send();
    assert_eq!(me(&thief).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        ann.post("/api/logout", json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(me(&thief).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let forged = thief
        .get(server.url("/api/me"))
        .header("cookie", "chat_session=00ff")
        .send()
        .await
        .unwrap();
    refused(forged, StatusCode::UNAUTHORIZED, "not_logged_in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_participants_read_and_post() {
    let server = Server::start().await;
    let (ann, bo, cy) = (
        server.user("ann").await,
        server.user("bo").await,
        server.user("cy").await,
    );
    let thread = ann.start_thread(&["bo"], Some("just us")).await;
    let messages = format!("/api/threads/{thread}/messages");

    refused(
        cy.get(&messages).await,
        StatusCode::FORBIDDEN,
        "not_a_participant",
    )
    .await;
    let post = cy.post(&messages, json!({"text": "let me in"})).await;
    refused(post, StatusCode::FORBIDDEN, "not_a_participant").await;
    let read = cy
        .post(&format!("/api/threads/{thread}/read"), json!({}))
        .await;
    refused(read, StatusCode::FORBIDDEN, "not_a_participant").await;
    assert_eq!(cy.ok("/api/threads").await["items"], json!([]));

    let anonymous = server.client();
    refused(
        anonymous.get(&messages).await,
        StatusCode::UNAUTHORIZED,
        "not_logged_in",
    )
    .await;
    refused(
        anonymous.get("/api/threads").await,
        StatusCode::UNAUTHORIZED,
        "not_logged_in",
    )
    .await;
    refused(
        anonymous.get("/api/events").await,
        StatusCode::UNAUTHORIZED,
        "not_logged_in",
    )
    .await;

    // A client cannot post as someone else: the sender is the session's.
    let res = bo
        .post(
            &messages,
            json!({"text": "from bo", "sender": {"id": ann.id}, "sender_id": ann.id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = ann.ok(&messages).await;
    assert_eq!(page["items"][0]["text"], "from bo");
    assert_eq!(page["items"][0]["sender"]["handle"], "bo");
    assert_eq!(page["items"][1]["sender"]["handle"], "ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_4xx_json_error() {
    let server = Server::start().await;
    let (ann, _bo) = (server.user("ann").await, server.user("bo").await);
    let t1 = ann.start_thread(&["bo"], Some("one")).await;
    let t2 = ann.start_thread(&["bo"], Some("two")).await;
    for i in 0..5 {
        ann.say(&t1, &format!("m{i}")).await;
    }
    let page = ann.ok(&format!("/api/threads/{t1}/messages?limit=2")).await;
    let cursor = page["next"].as_str().unwrap().to_string();
    // One text form for cursors: vbolt's own (URL-safe base64).
    assert!(cursor.parse::<vbolt::Cursor>().is_ok(), "{cursor}");

    // A cursor of another thread, a forged one, one that is not a cursor.
    let foreign = ann
        .get(&format!("/api/threads/{t2}/messages?cursor={cursor}"))
        .await;
    refused(foreign, StatusCode::BAD_REQUEST, "bad_cursor").await;
    let forged = ann
        .get(&format!(
            "/api/threads/{t1}/messages?cursor=00112233445566778899"
        ))
        .await;
    refused(forged, StatusCode::BAD_REQUEST, "bad_cursor").await;
    let not_a_cursor = ann
        .get(&format!("/api/threads/{t1}/messages?cursor=zz"))
        .await;
    refused(not_a_cursor, StatusCode::BAD_REQUEST, "bad_cursor").await;
    let threads_cursor = ann.get(&format!("/api/threads?cursor={cursor}")).await;
    refused(threads_cursor, StatusCode::BAD_REQUEST, "bad_cursor").await;
    let zero = ann
        .get(&format!("/api/threads/{t1}/messages?limit=0"))
        .await;
    refused(zero, StatusCode::BAD_REQUEST, "bad_limit").await;
    let huge = ann
        .get(&format!("/api/threads/{t1}/messages?limit=100000"))
        .await;
    refused(huge, StatusCode::BAD_REQUEST, "bad_limit").await;
    let word = ann
        .get(&format!("/api/threads/{t1}/messages?limit=many"))
        .await;
    refused(word, StatusCode::BAD_REQUEST, "bad_query").await;

    // Oversized and empty messages.
    let long = "x".repeat(chat_web::api::MAX_MESSAGE_BYTES + 1);
    let res = ann
        .post(
            &format!("/api/threads/{t1}/messages"),
            json!({ "text": long }),
        )
        .await;
    refused(res, StatusCode::PAYLOAD_TOO_LARGE, "message_too_long").await;
    let res = ann
        .post(
            &format!("/api/threads/{t1}/messages"),
            json!({ "text": "  " }),
        )
        .await;
    refused(res, StatusCode::BAD_REQUEST, "empty_message").await;
    let res = ann
        .post(
            "/api/threads",
            json!({"with": ["bo"], "text": "y".repeat(5000)}),
        )
        .await;
    refused(res, StatusCode::PAYLOAD_TOO_LARGE, "message_too_long").await;

    // Unknown ids.
    let nil = "00000000-0000-0000-0000-000000000001";
    refused(
        ann.get(&format!("/api/threads/{nil}/messages")).await,
        StatusCode::NOT_FOUND,
        "unknown_thread",
    )
    .await;
    let res = ann
        .post(
            &format!("/api/threads/{nil}/messages"),
            json!({"text": "hi"}),
        )
        .await;
    refused(res, StatusCode::NOT_FOUND, "unknown_thread").await;
    refused(
        ann.get("/api/threads/not-a-uuid/messages").await,
        StatusCode::BAD_REQUEST,
        "bad_path",
    )
    .await;
    let res = ann.post("/api/threads", json!({"with": ["nobody"]})).await;
    refused(res, StatusCode::NOT_FOUND, "unknown_user").await;
    let res = ann.post("/api/threads", json!({"with": []})).await;
    refused(res, StatusCode::BAD_REQUEST, "bad_participants").await;
    refused(
        ann.get("/api/no/such/route").await,
        StatusCode::NOT_FOUND,
        "no_such_route",
    )
    .await;

    // Malformed JSON, the wrong shape, the wrong content type.
    let raw = |body: &'static str, kind: &'static str| {
        ann.http
            .post(server.url(&format!("/api/threads/{t1}/messages")))
            .header("content-type", kind)
            .body(body)
            .send()
    };
    refused(
        raw("{\"text\": ", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "bad_json",
    )
    .await;
    refused(
        raw("{\"text\": 5}", "application/json").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_json_data",
    )
    .await;
    refused(
        raw("text=hi", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "not_json",
    )
    .await;
    let too_big = ann
        .http
        .post(server.url(&format!("/api/threads/{t1}/messages")))
        .header("content-type", "application/json")
        .body(format!("{{\"text\": \"{}\"}}", "z".repeat(3 << 20)))
        .send()
        .await
        .unwrap();
    refused(too_big, StatusCode::PAYLOAD_TOO_LARGE, "bad_body").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_list_newest_activity_first_with_unread_markers() {
    let server = Server::start().await;
    let (ann, bo, _cy) = (
        server.user("ann").await,
        server.user("bo").await,
        server.user("cy").await,
    );
    let old = ann.start_thread(&["bo"], Some("old")).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let new = ann.start_thread(&["bo", "cy"], Some("new")).await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = bo.ok("/api/threads").await;
    assert_eq!(ids(&list), [new.clone(), old.clone()]);
    assert_eq!(list["items"][0]["unread"], true);
    assert_eq!(
        list["items"][0]["participants"].as_array().unwrap().len(),
        3
    );
    // ann wrote both: nothing unread for her.
    assert!(
        ann.ok("/api/threads").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["unread"] == false)
    );

    tokio::time::sleep(Duration::from_millis(5)).await;
    ann.say(&old, "bump").await;
    let list = bo.ok("/api/threads").await;
    assert_eq!(
        ids(&list),
        [old.clone(), new.clone()],
        "the bumped thread moves up"
    );

    let res = bo
        .post(&format!("/api/threads/{old}/read"), json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let list = bo.ok("/api/threads").await;
    assert_eq!(list["items"][0]["unread"], false);
    assert_eq!(list["items"][1]["unread"], true);

    // The list pages too.
    let first = bo.ok("/api/threads?limit=1").await;
    assert_eq!(ids(&first), std::slice::from_ref(&old));
    let next = first["next"].as_str().unwrap();
    let second = bo.ok(&format!("/api/threads?limit=1&cursor={next}")).await;
    assert_eq!(ids(&second), [new]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_walks_the_whole_thread_newest_first() {
    let server = Server::start().await;
    let (ann, bo) = (server.user("ann").await, server.user("bo").await);
    let thread = ann.start_thread(&["bo"], None).await;
    let mut posted = Vec::new();
    for i in 0..75 {
        let who = if i % 3 == 0 { &bo } else { &ann };
        posted.push(who.say(&thread, &format!("message {i}")).await);
    }
    for limit in [1, 7, 30, 100] {
        let all = bo.all_messages(&thread, limit).await;
        let ids: Vec<&str> = all.iter().map(|m| m["id"].as_str().unwrap()).collect();
        let mut expected: Vec<&str> = posted.iter().map(String::as_str).collect();
        expected.reverse();
        assert_eq!(ids, expected, "limit {limit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_follow_the_commits_of_ones_threads() {
    let server = Server::start().await;
    let (ann, bo, cy) = (
        server.user("ann").await,
        server.user("bo").await,
        server.user("cy").await,
    );
    let mut events = bo.get("/api/events").await;
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    assert_eq!(
        next_event(&mut events, &mut buf).await.as_deref(),
        Some("ready")
    );

    let thread = ann.start_thread(&["bo"], Some("hello bo")).await;
    assert_eq!(
        next_event(&mut events, &mut buf).await.as_deref(),
        Some("activity")
    );
    let list = bo.ok("/api/threads").await;
    assert_eq!(list["items"][0]["id"], thread.as_str());
    assert_eq!(list["items"][0]["unread"], true);

    // A thread bo is not in does not wake him; his own thread does.
    cy.start_thread(&["ann"], Some("not for bo")).await;
    ann.say(&thread, "second").await;
    assert_eq!(
        next_event(&mut events, &mut buf).await.as_deref(),
        Some("activity")
    );
    let page = bo.ok(&format!("/api/threads/{thread}/messages")).await;
    assert_eq!(page["items"][0]["text"], "second");
    let list = bo.ok("/api/threads").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_clients_lose_and_duplicate_nothing() {
    let server = Server::start().await;
    let (clients, threads, posts) = (50usize, 5usize, 12usize);
    let mut users = Vec::new();
    for i in 0..clients {
        users.push(server.user(&format!("u{i}")).await);
    }
    // Thread k holds users k, k+5, k+10...; its first member starts it.
    let mut thread_ids = Vec::new();
    for (k, first) in users.iter().enumerate().take(threads) {
        let others: Vec<String> = (k + threads..clients)
            .step_by(threads)
            .map(|i| format!("u{i}"))
            .collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        thread_ids.push(first.start_thread(&others, None).await);
    }
    let users = std::sync::Arc::new(users);
    let thread_ids = std::sync::Arc::new(thread_ids);
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (users, thread_ids) = (users.clone(), thread_ids.clone());
            tokio::spawn(async move {
                let me = &users[i];
                let thread = &thread_ids[i % threads];
                for n in 0..posts {
                    me.say(thread, &format!("u{i} #{n}")).await;
                    // Page while others post: every page is well formed.
                    let page = me
                        .ok(&format!("/api/threads/{thread}/messages?limit=10"))
                        .await;
                    assert!(!page["items"].as_array().unwrap().is_empty());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for (k, thread) in thread_ids.iter().enumerate() {
        let all = users[k].all_messages(thread, 17).await;
        let texts: Vec<String> = all
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect();
        let unique: HashSet<&String> = texts.iter().collect();
        assert_eq!(unique.len(), texts.len(), "duplicates in thread {k}");
        let expected: HashSet<String> = (k..clients)
            .step_by(threads)
            .flat_map(|i| (0..posts).map(move |n| format!("u{i} #{n}")))
            .collect();
        assert_eq!(unique.len(), expected.len(), "thread {k}");
        assert!(texts.iter().all(|t| expected.contains(t)));
        // Each client's own posts appear in the order it made them.
        for i in (k..clients).step_by(threads) {
            let mine: Vec<&String> = texts
                .iter()
                .rev()
                .filter(|t| t.starts_with(&format!("u{i} #")))
                .collect();
            let want: Vec<String> = (0..posts).map(|n| format!("u{i} #{n}")).collect();
            assert_eq!(mine, want.iter().collect::<Vec<_>>(), "order of u{i}");
        }
    }
}

/// The app records two declaration lists (the chat's and its accounts');
/// `vbolt check` must find every table declared, after a first open and
/// after a reopen.
#[test]
fn every_table_of_the_app_is_declared() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.vbolt");
    for _ in 0..2 {
        let db = chat_web::open_db(&path).unwrap();
        let report = vbolt::check(&db).unwrap();
        assert!(report.declarations_recorded);
        assert!(report.undeclared.is_empty(), "{:?}", report.undeclared);
        assert!(report.is_ok(), "{:?}", report.problems);
    }
}
