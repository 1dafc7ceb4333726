//! The group chat of vbolt's tutorial as a web application.
//!
//! An axum server over one embedded vbolt file: accounts with Argon2id
//! password hashes and cookie sessions ([`accounts`]), a JSON API for
//! threads and messages with cursor paging ([`api`]), live updates over
//! Server-Sent Events fed by vbolt's commit notifications ([`live`]), and
//! a plain HTML/CSS/JS page ([`pages`]). The data model and its use cases
//! are the tutorial's ([`vbolt_examples::chat`]), used through vbolt's
//! public API only.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/signup` `{handle, password, display_name?}` | create an account, log in |
//! | `POST /api/login` `{handle, password}` | log in (sets the session cookie) |
//! | `POST /api/logout` | end the session |
//! | `GET /api/me` | the logged-in user |
//! | `GET /api/threads?limit=&cursor=` | the caller's threads, newest activity first |
//! | `POST /api/threads` `{with: [handle], text?}` | start a thread |
//! | `GET /api/threads/{id}/messages?limit=&cursor=` | a page of messages, newest first |
//! | `POST /api/threads/{id}/messages` `{text}` | post |
//! | `POST /api/threads/{id}/read` | mark read |
//! | `GET /api/events` | Server-Sent Events: `ready`, then `activity` |
//!
//! Every refusal is a JSON body `{"error": code, "message": text}`
//! ([`error`]): a 4xx for the request, a 503 with `Retry-After` when the
//! server is at a bound shared by every client. Even a request hyper
//! cannot parse gets one ([`server::parse_errors`]).
//!
//! ## Bounded work per client
//!
//! The server is meant to face the internet. What one client can make it
//! do is bounded, and [`limits`] lists every bound with its default:
//! password hashes run on a fixed set of threads with one working memory
//! each ([`hashing`]); logins and signups are rate-limited per address and
//! failed logins per handle, answered 429 with `Retry-After`
//! ([`throttle`]); a request's headers have a deadline and connections a
//! ceiling ([`server`]); event streams are capped per session and in all,
//! and end with their session ([`live`]); expired sessions are removed on
//! use and by a periodic sweep ([`accounts`]); state-changing requests
//! from other origins are refused, and answers are marked `nosniff` and
//! `no-store` ([`policy`]).

#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod error;
pub mod hashing;
pub mod limits;
pub mod live;
pub mod pages;
pub mod policy;
pub mod server;
pub mod throttle;

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::hashing::Hashers;
use crate::limits::Limits;
use crate::live::Streams;
use crate::throttle::Throttles;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The chat's database.
    pub db: Arc<vbolt::Db>,
    /// Turns true when the server stops: live streams end then, so that a
    /// graceful shutdown does not wait for browsers to hang up.
    pub stopping: watch::Receiver<bool>,
    /// The password hashers (bounded: see [`hashing`]).
    pub hashers: Arc<Hashers>,
    /// The rate limits on logging in and signing up.
    pub throttles: Arc<Throttles>,
    /// The open event streams, counted against their bounds.
    pub streams: Arc<Streams>,
}

impl AppState {
    /// The state of a server over `db` with `limits`: starts the hasher
    /// threads.
    pub fn new(
        db: Arc<vbolt::Db>,
        limits: &Limits,
        stopping: watch::Receiver<bool>,
    ) -> std::io::Result<AppState> {
        Ok(AppState {
            db,
            stopping,
            hashers: Arc::new(Hashers::start(limits.hashers, limits.hash_queue)?),
            throttles: Arc::new(Throttles::new(limits)),
            streams: Streams::new(limits.streams_per_session, limits.streams),
        })
    }
}

/// Opens (or creates) the chat database at `path` with every table the
/// app uses.
pub fn open_db(path: &Path) -> Result<vbolt::Db, vbolt::Error> {
    let db = vbolt_examples::chat::open(path)?;
    vbolt::ensure_buckets(&db, &accounts::INFO)?;
    Ok(db)
}

/// The application's routes over `state`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/signup", post(api::sign_up))
        .route("/login", post(api::log_in))
        .route("/logout", post(api::log_out))
        .route("/me", get(api::whoami))
        .route("/threads", get(api::list_threads).post(api::start_thread))
        .route(
            "/threads/{id}/messages",
            get(api::read_messages).post(api::post_message),
        )
        .route("/threads/{id}/read", post(api::mark_read))
        .route("/events", get(live::events))
        .fallback(|| async { ApiError::not_found("no_such_route", "no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::from_fn(policy::api_guard));
    Router::new()
        .nest("/api", api)
        .merge(pages::routes())
        .with_state(state)
}

/// Serves the app on `listener` with the default [`Limits`] until
/// `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    db: Arc<vbolt::Db>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, db, Limits::default(), shutdown).await
}

/// Serves the app on `listener` within `limits` until `shutdown`
/// resolves; then ends the live streams and waits for the requests in
/// progress.
pub async fn serve_with(
    listener: TcpListener,
    db: Arc<vbolt::Db>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let state = AppState::new(db, &limits, stopping)?;
    let sweeper = tokio::spawn(sweep(state.clone(), limits.sweep_every));
    let served = server::accept_loop(listener, router(state), &limits, async move {
        shutdown.await;
        let _ = stop.send(true);
    })
    .await;
    sweeper.abort();
    served
}

/// Every `every`: removes expired sessions and forgets rate-limit keys at
/// rest.
async fn sweep(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        state.throttles.forget_rested(Instant::now());
        let db = state.db.clone();
        let swept =
            tokio::task::spawn_blocking(move || accounts::sweep_expired(&db, SystemTime::now()))
                .await;
        match swept {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("chat-web: removing expired sessions failed: {e}"),
            Err(e) => eprintln!("chat-web: the session sweep stopped: {e}"),
        }
    }
}
