//! A group chat on vbolt: people post messages to threads only the
//! participants can see, see their threads most recently active first with
//! an unread marker, and page back through a thread's history.
//!
//! Times are passed in (`now`) rather than read from the clock, so the demo
//! and the tests are deterministic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;
use vbolt::{
    Bucket, Cursor, Db, Error, Index, Info, Readable, Window, WriteTx, get, read_slice,
    read_term_targets, set_target_terms_uniform, write,
};
use vpack::Pack;

// ---- the data model ---------------------------------------------------------

/// A person using the chat.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// Unique, chosen by the user: `@ann`.
    pub handle: String,
    /// Shown next to messages.
    pub display_name: String,
    /// Relative path of the picture.
    pub picture: String,
}

/// A conversation between participants.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct Thread {
    /// The thread's id.
    pub id: Uuid,
    /// Ids of the users in the thread.
    pub participants: Vec<Uuid>,
    /// When the thread was started.
    pub started_at: SystemTime,
    /// The newest message, kept here so "is there anything unread?" is one
    /// comparison instead of a query.
    pub latest_message: Uuid,
    /// When the newest message was posted (or the thread started).
    pub active_at: SystemTime,
}

/// One message in a thread.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct Message {
    /// The message's id.
    pub id: Uuid,
    /// Who wrote it.
    pub sender_id: Uuid,
    /// Where it was posted.
    pub thread_id: Uuid,
    /// When it was posted.
    pub timestamp: SystemTime,
    /// The text.
    pub content: String,
}

/// How far a user has read a thread.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct LastRead {
    /// The reader.
    pub user_id: Uuid,
    /// The thread.
    pub thread_id: Uuid,
    /// The newest message the user has seen.
    pub last_read: Uuid,
    /// When they saw it.
    pub read_at: SystemTime,
}

// ---- pack functions -----------------------------------------------------------

/// Version 2 added the picture.
pub fn pack_user(u: &mut User, buf: &mut vpack::Buffer) {
    let version = vpack::version(2, buf);
    vpack::uuid(&mut u.id, buf);
    vpack::string(&mut u.handle, buf);
    vpack::string(&mut u.display_name, buf);
    if version >= 2 {
        vpack::string(&mut u.picture, buf);
    }
}

/// Milliseconds since the epoch, as an index priority (order-preserving).
pub fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

// ---- buckets and indexes --------------------------------------------------------

/// Users by id.
pub static USERS: Bucket<Uuid, User> = Bucket::new("users", vpack::key::uuid(), pack_user);

/// Handle -> user id. Makes handles unique (a second user cannot claim one)
/// and lets `@mentions` resolve without scanning users. `string_z` keys sort
/// like the strings, so handles can also be listed alphabetically.
pub static HANDLES: Bucket<String, Uuid> = Bucket::of("handles");

/// Threads by id.
pub static THREADS: Bucket<Uuid, Thread> = Bucket::of("threads");

/// Messages by id.
pub static MESSAGES: Bucket<Uuid, Message> = Bucket::of("messages");

/// (user, thread) -> how far the user has read. One small record per pair,
/// so marking a thread read rewrites 60 bytes, not the thread.
pub static LAST_READ: Bucket<(Uuid, Uuid), LastRead> = Bucket::of("last_read");

/// Term: a user. Target: a thread they take part in. Priority: the thread's
/// last activity in milliseconds, so a reverse window lists a user's threads
/// most recently active first. The thread's participants are its terms:
/// posting a message re-sets them with the new time, moving the thread to
/// the top of every participant's list in one call.
pub static USER_THREADS: Index<Uuid, Uuid, i64> = Index::with_priority(
    "user_threads",
    vpack::key::uuid(),
    vpack::key::uuid(),
    vpack::key::fint_ord(),
)
.terms_in(&USERS)
.targets_in(&THREADS);

/// Term: a thread. Target: a message in it. Priority: the posting time, so
/// a reverse window pages through history newest first; the count is the
/// thread's message count, for free.
pub static THREAD_MESSAGES: Index<Uuid, Uuid, i64> = Index::with_priority(
    "thread_messages",
    vpack::key::uuid(),
    vpack::key::uuid(),
    vpack::key::fint_ord(),
)
.terms_in(&THREADS)
.targets_in(&MESSAGES);

/// Every declaration, for `ensure_buckets` and inspection tools.
pub static INFO: Info = Info::new(&[
    &USERS,
    &HANDLES,
    &THREADS,
    &MESSAGES,
    &LAST_READ,
    &USER_THREADS,
    &THREAD_MESSAGES,
]);

// ---- use cases ----------------------------------------------------------------------

/// Why a use case refused, or the database failed.
#[derive(Debug)]
pub enum ChatError {
    /// The handle belongs to someone else.
    HandleTaken(String),
    /// No such user.
    UnknownUser,
    /// No such thread.
    UnknownThread,
    /// The user is not a participant of the thread.
    NotAParticipant,
    /// The database failed (I/O, a value that does not unpack...).
    Db(vbolt::Error),
}

impl From<vbolt::Error> for ChatError {
    fn from(e: vbolt::Error) -> ChatError {
        ChatError::Db(e)
    }
}

/// Creates a user with a unique handle. Handles are case-sensitive here.
pub fn create_user(tx: &mut WriteTx, handle: &str, display_name: &str) -> Result<User, ChatError> {
    if vbolt::has_key(tx, &HANDLES, handle)? {
        return Err(ChatError::HandleTaken(handle.into()));
    }
    let mut user = User {
        id: Uuid::new_v4(),
        handle: handle.into(),
        display_name: display_name.into(),
        picture: String::new(),
    };
    write(tx, &USERS, user.id, &mut user);
    write(tx, &HANDLES, user.handle.as_str(), &mut user.id.clone());
    Ok(user)
}

/// Finds a user by handle.
pub fn user_by_handle(tx: &impl Readable, handle: &str) -> Result<Option<User>, Error> {
    match get(tx, &HANDLES, handle)? {
        Some(id) => get(tx, &USERS, id),
        None => Ok(None),
    }
}

/// Starts a thread between `participants` (the creator among them).
pub fn start_thread(
    tx: &mut WriteTx,
    participants: &[Uuid],
    now: SystemTime,
) -> Result<Thread, ChatError> {
    for p in participants {
        if !vbolt::has_key(tx, &USERS, p)? {
            return Err(ChatError::UnknownUser);
        }
    }
    let mut participants = participants.to_vec();
    participants.sort();
    participants.dedup();
    let mut thread = Thread {
        id: Uuid::new_v4(),
        participants,
        started_at: now,
        latest_message: Uuid::nil(),
        active_at: now,
    };
    write(tx, &THREADS, thread.id, &mut thread);
    set_target_terms_uniform(
        tx,
        &USER_THREADS,
        thread.id,
        &thread.participants,
        millis(now),
    );
    Ok(thread)
}

/// Posts a message. Everything that moves with it happens in the same
/// transaction: the message, its place in the thread's history, the
/// thread's latest message, the thread's position in every participant's
/// list, and the sender's read marker.
pub fn post_message(
    tx: &mut WriteTx,
    sender: Uuid,
    thread_id: Uuid,
    content: &str,
    now: SystemTime,
) -> Result<Message, ChatError> {
    let mut thread = get(tx, &THREADS, thread_id)?.ok_or(ChatError::UnknownThread)?;
    if !thread.participants.contains(&sender) {
        return Err(ChatError::NotAParticipant);
    }
    // Two posts in the same millisecond must still list in the order they
    // were made: each message comes at least a millisecond after the last.
    let now = now.max(thread.active_at + Duration::from_millis(1));
    let mut message = Message {
        id: Uuid::new_v4(),
        sender_id: sender,
        thread_id,
        timestamp: now,
        content: content.into(),
    };
    write(tx, &MESSAGES, message.id, &mut message);
    vbolt::set_target_single_term_ext(tx, &THREAD_MESSAGES, message.id, thread_id, millis(now));

    thread.latest_message = message.id;
    thread.active_at = now;
    write(tx, &THREADS, thread_id, &mut thread);
    set_target_terms_uniform(
        tx,
        &USER_THREADS,
        thread_id,
        &thread.participants,
        millis(now),
    );

    mark_read_at(tx, sender, &thread, now);
    Ok(message)
}

fn mark_read_at(tx: &mut WriteTx, user: Uuid, thread: &Thread, now: SystemTime) {
    let mut marker = LastRead {
        user_id: user,
        thread_id: thread.id,
        last_read: thread.latest_message,
        read_at: now,
    };
    write(tx, &LAST_READ, (user, thread.id), &mut marker);
}

/// Marks everything in the thread as read by `user`.
pub fn mark_read(
    tx: &mut WriteTx,
    user: Uuid,
    thread_id: Uuid,
    now: SystemTime,
) -> Result<(), ChatError> {
    let thread = get(tx, &THREADS, thread_id)?.ok_or(ChatError::UnknownThread)?;
    if !thread.participants.contains(&user) {
        return Err(ChatError::NotAParticipant);
    }
    mark_read_at(tx, user, &thread, now);
    Ok(())
}

/// One line of a user's thread list.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadListing {
    /// The thread.
    pub thread: Thread,
    /// True when the thread has messages the user has not seen.
    pub unread: bool,
}

/// The user's threads, most recently active first, `limit` per page.
pub fn list_threads(
    tx: &impl Readable,
    user: Uuid,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<ThreadListing>, Option<Cursor>), Error> {
    let window = Window::new().limit(limit).cursor(cursor).reverse();
    let mut ids = Vec::new();
    let next = read_term_targets(tx, &USER_THREADS, user, &mut ids, &window)?;
    let mut threads = Vec::new();
    read_slice(tx, &THREADS, &ids, &mut threads)?;
    let mut listings = Vec::with_capacity(threads.len());
    for thread in threads {
        let last_read = get(tx, &LAST_READ, (user, thread.id))?.map(|m| m.last_read);
        let unread = !thread.latest_message.is_nil() && last_read != Some(thread.latest_message);
        listings.push(ThreadListing { thread, unread });
    }
    Ok((listings, next))
}

/// A page of the thread's messages, newest first, and the cursor of the
/// next (older) page.
pub fn read_messages(
    tx: &impl Readable,
    thread_id: Uuid,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Message>, Option<Cursor>), Error> {
    let window = Window::new().limit(limit).cursor(cursor).reverse();
    let mut ids = Vec::new();
    let next = read_term_targets(tx, &THREAD_MESSAGES, thread_id, &mut ids, &window)?;
    let mut messages = Vec::new();
    read_slice(tx, &MESSAGES, &ids, &mut messages)?;
    Ok((messages, next))
}

/// The number of messages in the thread.
pub fn message_count(tx: &impl Readable, thread_id: Uuid) -> Result<usize, Error> {
    vbolt::read_term_count(tx, &THREAD_MESSAGES, thread_id)
}

/// A simulated clock for the demo: starts at a fixed time and ticks a
/// second per call.
pub struct Clock(SystemTime);

impl Clock {
    /// A clock starting at 2026-01-01T00:00:00Z.
    pub fn new() -> Clock {
        Clock(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
    }

    /// The current time; then advances a second.
    pub fn tick(&mut self) -> SystemTime {
        let now = self.0;
        self.0 += Duration::from_secs(1);
        now
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// Opens (or creates) the chat database and its tables.
pub fn open(path: &std::path::Path) -> Result<Db, Error> {
    let db = Db::open(path)?;
    vbolt::ensure_buckets(&db, &INFO)?;
    Ok(db)
}

/// [`open`] with `options` (a write-ahead log, for one).
pub fn open_with(path: &std::path::Path, options: vbolt::Options) -> Result<Db, Error> {
    let db = Db::open_with(path, options)?;
    vbolt::ensure_buckets(&db, &INFO)?;
    Ok(db)
}
