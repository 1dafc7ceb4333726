//! The JSON API: accounts, threads, messages. Every handler that touches a
//! thread checks that the caller takes part in it.
//!
//! Reads run directly on the async worker (a vbolt read is microseconds);
//! writes run in `spawn_blocking` through `Db::batch`, so that concurrent
//! posts share durable commits; password hashes run on the bounded
//! hashers ([`crate::hashing`]), after the rate limits
//! ([`crate::throttle`]).

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vbolt::{Cursor, Readable, get};
use vbolt_examples::chat::{self, ChatError, Message, Thread, User};

use crate::AppState;
use crate::accounts::{self, Me};
use crate::error::ApiError;
use crate::server::ClientAddress;
use crate::{policy, throttle};

/// The longest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4000;
/// The most participants a thread may have.
pub const MAX_PARTICIPANTS: usize = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE: usize = 100;

/// `axum::Json`, with its rejections answered as [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query`, with its rejections answered as [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`, with its rejections answered as [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// A user as others see them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UserView {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id,
            handle: u.handle.clone(),
            display_name: u.display_name.clone(),
        }
    }
}

/// One line of the thread list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ThreadView {
    pub id: Uuid,
    pub participants: Vec<UserView>,
    /// Milliseconds since the epoch of the newest message (or the start).
    pub active_at: i64,
    /// The newest message's id (`null` before the first message).
    pub latest_message: Option<Uuid>,
    /// True when the thread has a message the caller has not seen.
    pub unread: bool,
}

/// One message.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MessageView {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub sender: UserView,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub text: String,
}

/// A page of a list and the cursor of the next page (`null` at the end).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Runs `f` in a write transaction on a blocking thread. Through
/// `Db::batch`: `f` owns what it uses, so concurrent requests' closures
/// run back to back on the thread that holds the group's transaction
/// (the load example's posts: about 20% more per second than through
/// `Db::update`).
async fn update<T: Send + 'static>(
    app: &AppState,
    f: impl FnMut(&mut vbolt::WriteTx) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || db.batch(f)).await?
}

// ---- accounts -----------------------------------------------------------------

#[derive(Deserialize)]
pub struct SignUp {
    pub handle: String,
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
pub struct LogIn {
    pub handle: String,
    pub password: String,
}

fn with_cookie(status: StatusCode, cookie: String, body: impl IntoResponse) -> Response {
    (status, [(SET_COOKIE, cookie)], body).into_response()
}

/// Counts one hash-costing attempt (login or signup) of `client`; with
/// `signup`, one signup too.
fn count_attempt(app: &AppState, client: ClientAddress, signup: bool) -> Result<(), ApiError> {
    let Some(ip) = client.0 else { return Ok(()) };
    let key = throttle::address_key(ip);
    let now = Instant::now();
    app.throttles
        .logins_by_address
        .take(&key, now)
        .map_err(ApiError::slow_down)?;
    if signup {
        app.throttles
            .signups_by_address
            .take(&key, now)
            .map_err(ApiError::slow_down)?;
    }
    Ok(())
}

/// `POST /api/signup`: creates the account and logs it in.
pub async fn sign_up(
    State(app): State<AppState>,
    client: ClientAddress,
    Json(req): Json<SignUp>,
) -> Result<Response, ApiError> {
    accounts::check_handle(&req.handle)?;
    accounts::check_password(&req.password)?;
    let display_name = req.display_name.unwrap_or_else(|| req.handle.clone());
    if display_name.trim().is_empty() || display_name.len() > 64 {
        return Err(ApiError::bad_request(
            "bad_display_name",
            "a display name is 1 to 64 bytes",
        ));
    }
    policy::check_visible_text(&display_name, false, "bad_display_name", "a display name")?;
    count_attempt(&app, client, true)?;
    let hash = app.hashers.hash(req.password).await?;
    let handle = req.handle;
    let (user, token) = update(&app, move |tx| {
        let user = accounts::sign_up(tx, &handle, &display_name, &hash)?;
        let token = accounts::start_session(tx, user.id, SystemTime::now())?;
        Ok((user, token))
    })
    .await?;
    Ok(with_cookie(
        StatusCode::CREATED,
        accounts::session_cookie(&token),
        Json(UserView::from(&user)),
    ))
}

/// `POST /api/login`: checks the password and starts a session.
pub async fn log_in(
    State(app): State<AppState>,
    client: ClientAddress,
    Json(req): Json<LogIn>,
) -> Result<Response, ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_login",
            "wrong handle or password",
        )
    };
    // No account has such a handle or password: refused without a hash.
    if accounts::check_handle(&req.handle).is_err()
        || accounts::check_password(&req.password).is_err()
    {
        return Err(refused());
    }
    count_attempt(&app, client, false)?;
    let failures = &app.throttles.failures_by_handle;
    failures
        .peek(&req.handle, Instant::now())
        .map_err(ApiError::slow_down)?;
    let found = app
        .db
        .view(|tx| match chat::user_by_handle(tx, &req.handle)? {
            Some(user) => {
                Ok::<_, vbolt::Error>(get(tx, &accounts::PASSWORDS, user.id)?.map(|h| (user, h)))
            }
            None => Ok(None),
        })?;
    // An unknown handle is checked against a decoy hash, so that it takes
    // as long to refuse as a wrong password (no probing for handles by
    // timing).
    let (user, stored) = found.unzip();
    let stored = stored.unwrap_or_else(|| accounts::DECOY_HASH.to_string());
    let ok = app.hashers.verify(req.password, stored).await?;
    let Some(user) = user.filter(|_| ok) else {
        // Counted whatever the handle: an unknown one fails the same way.
        let _ = failures.take(&req.handle, Instant::now());
        return Err(refused());
    };
    let id = user.id;
    let token = update(&app, move |tx| {
        accounts::start_session(tx, id, SystemTime::now())
    })
    .await?;
    Ok(with_cookie(
        StatusCode::OK,
        accounts::session_cookie(&token),
        Json(UserView::from(&user)),
    ))
}

/// `POST /api/logout`: ends the session.
pub async fn log_out(State(app): State<AppState>, me: Me) -> Result<Response, ApiError> {
    update(&app, move |tx| {
        accounts::end_session(tx, &me.token);
        Ok(())
    })
    .await?;
    Ok(with_cookie(
        StatusCode::NO_CONTENT,
        accounts::cleared_cookie(),
        (),
    ))
}

/// `GET /api/me`: the logged-in user.
pub async fn whoami(me: Me) -> Json<UserView> {
    Json(UserView::from(&me.user))
}

// ---- threads and messages --------------------------------------------------------

#[derive(Deserialize)]
pub struct PageParams {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page size (default 30) and the cursor, checked.
    fn parse(&self) -> Result<(usize, Option<Cursor>), ApiError> {
        let limit = self.limit.unwrap_or(30);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(
                "bad_limit",
                format!("limit is 1 to {MAX_PAGE}"),
            ));
        }
        // A cursor travels in vbolt's own text form (URL-safe base64); an
        // empty parameter is the first page.
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse::<Cursor>().map_err(|_| {
                ApiError::bad_request("bad_cursor", "a cursor is the `next` value of a page")
            })?),
        };
        Ok((limit, cursor))
    }
}

/// Users by id, read once per page.
struct People<'t, R: Readable> {
    tx: &'t R,
    known: HashMap<Uuid, UserView>,
}

impl<'t, R: Readable> People<'t, R> {
    fn new(tx: &'t R) -> Self {
        People {
            tx,
            known: HashMap::new(),
        }
    }

    fn get(&mut self, id: Uuid) -> Result<UserView, vbolt::Error> {
        if let Some(u) = self.known.get(&id) {
            return Ok(u.clone());
        }
        let view = match get(self.tx, &chat::USERS, id)? {
            Some(u) => UserView::from(&u),
            None => UserView {
                id,
                handle: String::from("(deleted)"),
                display_name: String::new(),
            },
        };
        self.known.insert(id, view.clone());
        Ok(view)
    }
}

fn thread_view(
    people: &mut People<'_, impl Readable>,
    t: &Thread,
    unread: bool,
) -> Result<ThreadView, vbolt::Error> {
    Ok(ThreadView {
        id: t.id,
        participants: t
            .participants
            .iter()
            .map(|p| people.get(*p))
            .collect::<Result<_, _>>()?,
        active_at: millis(t.active_at),
        latest_message: (!t.latest_message.is_nil()).then_some(t.latest_message),
        unread,
    })
}

fn message_view(
    people: &mut People<'_, impl Readable>,
    m: &Message,
) -> Result<MessageView, vbolt::Error> {
    Ok(MessageView {
        id: m.id,
        thread_id: m.thread_id,
        sender: people.get(m.sender_id)?,
        at: millis(m.timestamp),
        text: m.content.clone(),
    })
}

/// `GET /api/threads?limit=&cursor=`: the caller's threads, most recently
/// active first.
pub async fn list_threads(
    State(app): State<AppState>,
    me: Me,
    Query(params): Query<PageParams>,
) -> Result<Json<Page<ThreadView>>, ApiError> {
    let (limit, cursor) = params.parse()?;
    let page = app.db.view(|tx| {
        let (listings, next) = chat::list_threads(tx, me.user.id, limit, cursor)?;
        let mut people = People::new(tx);
        let items = listings
            .iter()
            .map(|l| thread_view(&mut people, &l.thread, l.unread))
            .collect::<Result<_, vbolt::Error>>()?;
        Ok::<_, vbolt::Error>(Page {
            items,
            next: next.map(|c| c.to_string()),
        })
    })?;
    Ok(Json(page))
}

#[derive(Deserialize)]
pub struct NewThread {
    /// Handles of the other participants.
    pub with: Vec<String>,
    /// An optional first message.
    #[serde(default)]
    pub text: Option<String>,
}

fn check_text(text: &str) -> Result<(), ApiError> {
    policy::check_visible_text(text, true, "bad_text", "a message")?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "empty_message",
            "a message needs some text",
        ));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_too_long",
            format!("a message is at most {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// `POST /api/threads`: starts a thread with other users (by handle).
pub async fn start_thread(
    State(app): State<AppState>,
    me: Me,
    Json(req): Json<NewThread>,
) -> Result<(StatusCode, Json<ThreadView>), ApiError> {
    if req.with.is_empty() || req.with.len() >= MAX_PARTICIPANTS {
        return Err(ApiError::bad_request(
            "bad_participants",
            format!("name 1 to {} other users", MAX_PARTICIPANTS - 1),
        ));
    }
    if let Some(text) = &req.text {
        check_text(text)?;
    }
    let me_id = me.user.id;
    let thread = update(&app, move |tx| {
        let mut ids = vec![me_id];
        for handle in &req.with {
            let user = chat::user_by_handle(tx, handle)?.ok_or_else(|| {
                ApiError::not_found("unknown_user", format!("no user {handle:?}"))
            })?;
            ids.push(user.id);
        }
        let now = SystemTime::now();
        let mut thread = chat::start_thread(tx, &ids, now)?;
        if let Some(text) = &req.text {
            chat::post_message(tx, me_id, thread.id, text, now)?;
            thread = get(tx, &chat::THREADS, thread.id)?.ok_or(ChatError::UnknownThread)?;
        }
        Ok(thread)
    })
    .await?;
    let view = app
        .db
        .view(|tx| thread_view(&mut People::new(tx), &thread, false))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The thread, if the caller takes part in it.
fn thread_of(tx: &impl Readable, me: &Me, id: Uuid) -> Result<Thread, ApiError> {
    let thread = get(tx, &chat::THREADS, id)?.ok_or(ChatError::UnknownThread)?;
    if !thread.participants.contains(&me.user.id) {
        return Err(ApiError::not_a_participant());
    }
    Ok(thread)
}

/// `GET /api/threads/{id}/messages?limit=&cursor=`: a page of the thread,
/// newest first; `next` pages back in time.
pub async fn read_messages(
    State(app): State<AppState>,
    me: Me,
    Path(id): Path<Uuid>,
    Query(params): Query<PageParams>,
) -> Result<Json<Page<MessageView>>, ApiError> {
    let (limit, cursor) = params.parse()?;
    let tx = app.db.read_tx()?;
    thread_of(&tx, &me, id)?;
    let (messages, next) = chat::read_messages(&tx, id, limit, cursor)?;
    let mut people = People::new(&tx);
    let items = messages
        .iter()
        .map(|m| message_view(&mut people, m))
        .collect::<Result<_, _>>()?;
    drop(people);
    tx.finish()?;
    Ok(Json(Page {
        items,
        next: next.map(|c| c.to_string()),
    }))
}

#[derive(Deserialize)]
pub struct NewMessage {
    pub text: String,
}

/// `POST /api/threads/{id}/messages`: posts a message.
pub async fn post_message(
    State(app): State<AppState>,
    me: Me,
    Path(id): Path<Uuid>,
    Json(req): Json<NewMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    check_text(&req.text)?;
    let me_id = me.user.id;
    let message = update(&app, move |tx| {
        Ok(chat::post_message(
            tx,
            me_id,
            id,
            &req.text,
            SystemTime::now(),
        )?)
    })
    .await?;
    let view = MessageView {
        id: message.id,
        thread_id: message.thread_id,
        sender: UserView::from(&me.user),
        at: millis(message.timestamp),
        text: message.content,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// `POST /api/threads/{id}/read`: marks the thread read up to its newest
/// message.
pub async fn mark_read(
    State(app): State<AppState>,
    me: Me,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let me_id = me.user.id;
    update(&app, move |tx| {
        Ok(chat::mark_read(tx, me_id, id, SystemTime::now())?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
