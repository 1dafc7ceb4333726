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
//! Every refusal is a 4xx with a JSON body `{"error": code, "message":
//! text}` ([`error`]).

#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod error;
pub mod live;
pub mod pages;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The chat's database.
    pub db: Arc<vbolt::Db>,
    /// Turns true when the server stops: live streams end then, so that a
    /// graceful shutdown does not wait for browsers to hang up.
    pub stopping: watch::Receiver<bool>,
}

/// Opens (or creates) the chat database at `path` with every table the
/// app uses.
pub fn open_db(path: &Path) -> Result<vbolt::Db, vbolt::Error> {
    let db = vbolt_examples::chat::open(path)?;
    vbolt::ensure_buckets(&db, &accounts::INFO)?;
    Ok(db)
}

/// The application's routes over `db`; live streams end when `stopping`
/// turns true.
pub fn router(db: Arc<vbolt::Db>, stopping: watch::Receiver<bool>) -> Router {
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
        });
    Router::new()
        .nest("/api", api)
        .merge(pages::routes())
        .with_state(AppState { db, stopping })
}

/// Serves the app on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    db: Arc<vbolt::Db>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    axum::serve(listener, router(db, stopping))
        .with_graceful_shutdown(signal)
        .await
}
