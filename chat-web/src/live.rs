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
//! The first event, `ready`, is sent once the subscription exists: a page
//! that loads its data after `ready` cannot miss a message posted in
//! between.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use vbolt::Topic;
use vbolt_examples::chat;

use crate::AppState;
use crate::accounts::Me;
use crate::error::ApiError;

/// `GET /api/events`: the caller's activity stream.
pub async fn events(
    State(app): State<AppState>,
    me: Me,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let topic = Topic::term(&chat::USER_THREADS, me.user.id)?;
    let subscription = app.db.subscribe([topic]);
    let ready = stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let activity = stream::unfold(
        (subscription, app.stopping),
        |(sub, mut stopping)| async move {
            let changes = tokio::select! {
                changes = sub.changed() => changes.ok()?, // Closed: the database is gone
                () = stopped(&mut stopping) => return None,
            };
            let data = format!("{{\"commits\":{}}}", changes.commits());
            Some((
                Ok(Event::default().event("activity").data(data)),
                (sub, stopping),
            ))
        },
    );
    Ok(Sse::new(ready.chain(activity))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Resolves when the server starts stopping (never, if nobody can stop it).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    if stopping.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
