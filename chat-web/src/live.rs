//! Live updates: `GET /api/events` is a Server-Sent Events stream fed by
//! vbolt's commit notifications.
//!
//! The stream subscribes to the caller's term in the user-threads index:
//! that term changes whenever one of the caller's threads starts or gets a
//! message (the thread moves to the top of the list). Each wake-up becomes
//! one `activity` event; the page then reloads what it shows. A burst of
//! posts while the browser is slow coalesces into one event, so a slow
//! client costs the server a fixed amount of memory.
//!
//! Streams are bounded: per session and in all
//! ([`Limits`](crate::limits::Limits)), counted by [`Streams`]; each also
//! watches its own session's key, and ends with the session.
//!
//! The first event, `ready`, is sent once the subscription exists: a page
//! that loads its data after `ready` cannot miss a message posted in
//! between.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use vbolt::Topic;
use vbolt_examples::chat;

use crate::AppState;
use crate::accounts::{Me, SESSIONS};
use crate::error::ApiError;

/// `GET /api/events`: the caller's activity stream. It ends when the
/// server stops, and when its session ends (logout or expiry): a stream
/// is never worth more than the session that opened it.
pub async fn events(
    State(app): State<AppState>,
    me: Me,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = app.streams.open(&me.hash)?;
    let topics = [
        Topic::term(&chat::USER_THREADS, me.user.id)?,
        Topic::key(&SESSIONS, me.hash.as_slice())?,
    ];
    let subscription = app.db.subscribe(topics);
    let left = me
        .expires_at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let expiry = Box::pin(tokio::time::sleep(left));
    let ready = stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let watch = Watch {
        db: app.db.clone(),
        subscription,
        stopping: app.stopping.clone(),
        expiry,
        session: me.hash,
        _slot: slot,
    };
    let activity = stream::unfold(watch, |mut w| async move {
        let commits = w.next_activity().await?;
        let data = format!("{{\"commits\":{commits}}}");
        Some((Ok(Event::default().event("activity").data(data)), w))
    });
    Ok(Sse::new(ready.chain(activity))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// What one open stream holds.
struct Watch {
    db: Arc<vbolt::Db>,
    subscription: vbolt::Subscription,
    stopping: tokio::sync::watch::Receiver<bool>,
    expiry: std::pin::Pin<Box<tokio::time::Sleep>>,
    session: Vec<u8>,
    _slot: StreamSlot,
}

impl Watch {
    /// Waits for the caller's next activity: how many commits it covers,
    /// or `None` when the stream must end.
    async fn next_activity(&mut self) -> Option<u64> {
        loop {
            let changes = tokio::select! {
                changes = self.subscription.changed() => changes.ok()?, // the database is gone
                () = stopped(&mut self.stopping) => return None,
                () = &mut self.expiry => return None,
            };
            // Topic 1 is the session's key: a write there is its end.
            if changes.contains(1) {
                let session = self
                    .db
                    .view(|tx| vbolt::get(tx, &SESSIONS, self.session.as_slice()));
                // Ended, or unreadable: either way the stream ends, and
                // the browser's reconnection is told why.
                if !matches!(session, Ok(Some(_))) {
                    return None;
                }
            }
            if changes.contains(0) {
                return Some(changes.commits());
            }
        }
    }
}

/// Counts the open event streams, per session and in all, against the
/// limits.
pub struct Streams {
    per_session: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_session: HashMap<Vec<u8>, usize>,
}

/// One open stream's place in [`Streams`], given back when dropped (the
/// client hung up, the session ended, the server stopped).
pub struct StreamSlot {
    streams: Arc<Streams>,
    session: Vec<u8>,
}

impl Streams {
    /// At most `per_session` streams per session and `total` in all.
    pub fn new(per_session: usize, total: usize) -> Arc<Streams> {
        Arc::new(Streams {
            per_session,
            total,
            open: Mutex::new(Open::default()),
        })
    }

    /// A place for one more stream of `session`, or the refusal.
    pub fn open(self: &Arc<Self>, session: &[u8]) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= self.total {
            return Err(ApiError::busy(
                "too_many_streams",
                "the server has as many live streams open as it serves; try again later",
                Duration::from_secs(5),
            ));
        }
        let mine = open.by_session.entry(session.to_vec()).or_insert(0);
        if *mine >= self.per_session {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                format!(
                    "this session already has {} live streams open; close one",
                    self.per_session
                ),
            ));
        }
        *mine += 1;
        open.total += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            session: session.to_vec(),
        })
    }

    /// Streams open now, in all.
    pub fn open_now(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total -= 1;
        if let Some(n) = open.by_session.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                open.by_session.remove(&self.session);
            }
        }
    }
}

/// Resolves when the server starts stopping (never, if nobody can stop it).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    if stopping.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
