//! Accounts and sessions: password hashes (Argon2id) and session tokens,
//! kept in two buckets beside the chat's own, and the [`Me`] extractor that
//! turns a session cookie into the user making the request.
//!
//! A session token is 32 random bytes, sent to the browser as an HttpOnly,
//! SameSite=Strict cookie; the database stores only its BLAKE2b hash, so a
//! copy of the file opens no session.

use std::time::{Duration, SystemTime};

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use blake2::{Blake2b, Digest, digest::consts::U32};
use uuid::Uuid;
use vbolt::{Bucket, Info, WriteTx, get, write};
use vbolt_examples::chat::{self, ChatError, User};
use vpack::Pack;

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "chat_session";

/// How long a session lasts without logging in again.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// User id -> the user's password hash (a PHC string: algorithm,
/// parameters, salt and hash).
pub static PASSWORDS: Bucket<Uuid, String> =
    Bucket::new("passwords", vpack::key::uuid(), vpack::string);

/// A logged-in browser.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct Session {
    /// Who logged in.
    pub user_id: Uuid,
    /// When the session stops being accepted.
    pub expires_at: SystemTime,
}

/// BLAKE2b-256 of the session token -> the session.
pub static SESSIONS: Bucket<Vec<u8>, Session> = Bucket::new(
    "sessions",
    vpack::KeyFn::order_unchecked(vpack::bytes),
    Session::pack,
);

/// The web app's own tables, beside [`chat::INFO`].
pub static INFO: Info = Info::new(&[&PASSWORDS, &SESSIONS]);

/// Checks a handle: 1 to 32 of `a-z`, `0-9` and `_`.
pub fn check_handle(handle: &str) -> Result<(), ApiError> {
    let ok = (1..=32).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "bad_handle",
            "a handle is 1 to 32 characters of a-z, 0-9 and _",
        ))
    }
}

/// Checks a new password's length (8 to 256 bytes).
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if (8..=256).contains(&password.len()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "bad_password",
            "a password is 8 to 256 bytes long",
        ))
    }
}

/// What a login with an unknown handle is checked against, so that it
/// takes as long to refuse as a wrong password (no probing for handles by
/// timing). A well-formed Argon2id hash with the same parameters as real
/// ones, of random bytes: no password matches it.
pub const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cvC69TDglVe8A9c0cObv0Q$sBm8ffGKbcH/NQHKB15bf2b4LiekkfpD/3943mgzTT8";

/// Creates the user with its password hash, in the caller's transaction.
pub fn sign_up(
    tx: &mut WriteTx,
    handle: &str,
    display_name: &str,
    hash: &str,
) -> Result<User, ChatError> {
    let user = chat::create_user(tx, handle, display_name)?;
    write(tx, &PASSWORDS, user.id, &mut hash.to_string());
    Ok(user)
}

/// The key of a session token in [`SESSIONS`].
pub fn token_hash(token: &[u8]) -> Vec<u8> {
    Blake2b::<U32>::digest(token).to_vec()
}

/// Starts a session for `user`: returns the token for the cookie (hex).
pub fn start_session(tx: &mut WriteTx, user: Uuid, now: SystemTime) -> Result<String, ApiError> {
    let mut token = [0u8; 32];
    getrandom::fill(&mut token).map_err(ApiError::internal)?;
    let mut session = Session {
        user_id: user,
        expires_at: now + SESSION_LIFETIME,
    };
    write(tx, &SESSIONS, token_hash(&token), &mut session);
    Ok(hex(&token))
}

/// Ends the session of `token` (hex), if it exists.
pub fn end_session(tx: &mut WriteTx, token: &str) {
    if let Some(bytes) = unhex(token) {
        vbolt::delete(tx, &SESSIONS, token_hash(&bytes));
    }
}

/// The `Set-Cookie` value that stores `token` in the browser.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_cookie() -> String {
    format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The session token of the request's cookie, if any. Two session
/// cookies are refused: a cookie planted by a neighbour on the same site
/// (another port, a sibling subdomain) must not silently take the place
/// of the user's own.
pub fn cookie_token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let mut found = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value);
    let first = found.next().map(str::to_string);
    if found.next().is_some() {
        return Err(ApiError::bad_request(
            "duplicate_session_cookie",
            "the request carries two session cookies; clear this site's cookies and log in again",
        ));
    }
    Ok(first)
}

/// The user making the request: any handler that takes `Me` answers 401
/// without a valid, unexpired session.
#[derive(Debug, Clone)]
pub struct Me {
    /// The user.
    pub user: User,
    /// The session token (hex), for logging out.
    pub token: String,
    /// The token's hash: the session's key in [`SESSIONS`].
    pub hash: Vec<u8>,
    /// When the session stops being accepted.
    pub expires_at: SystemTime,
}

impl FromRequestParts<AppState> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Me, ApiError> {
        let token = cookie_token(parts)?.ok_or_else(ApiError::unauthenticated)?;
        let hash = unhex(&token)
            .map(|bytes| token_hash(&bytes))
            .ok_or_else(ApiError::unauthenticated)?;
        let now = SystemTime::now();
        let found = app.db.view(|tx| {
            let Some(session) = get(tx, &SESSIONS, hash.as_slice())? else {
                return Ok::<_, vbolt::Error>(None);
            };
            if session.expires_at <= now {
                return Ok(Some(Err(session)));
            }
            let user = get(tx, &chat::USERS, session.user_id)?;
            Ok(user.map(|u| Ok((u, session.expires_at))))
        })?;
        match found {
            Some(Ok((user, expires_at))) => Ok(Me {
                user,
                token,
                hash,
                expires_at,
            }),
            Some(Err(expired)) => {
                // Removed on use: the sweep would get to it, later.
                let db = app.db.clone();
                tokio::task::spawn_blocking(move || {
                    db.update(|tx| remove_if_expired(tx, &hash, expired.expires_at))
                })
                .await??;
                Err(ApiError::unauthenticated())
            }
            None => Err(ApiError::unauthenticated()),
        }
    }
}

/// Deletes the session `hash` if it still expires at `expires_at` (a
/// session is never extended, so that is the same session).
fn remove_if_expired(
    tx: &mut WriteTx,
    hash: &[u8],
    expires_at: SystemTime,
) -> Result<bool, vbolt::Error> {
    let same = get(tx, &SESSIONS, hash)?.is_some_and(|s| s.expires_at == expires_at);
    if same {
        vbolt::delete(tx, &SESSIONS, hash);
    }
    Ok(same)
}

/// Removes every session expired at `now`, reading 500 sessions per read
/// transaction and deleting each batch's expired ones in one write; how
/// many were removed.
pub fn sweep_expired(db: &vbolt::Db, now: SystemTime) -> Result<usize, vbolt::Error> {
    let mut removed = 0;
    let mut failed = None;
    vbolt::iterate_in_batches(db, &SESSIONS, 500, |batch| {
        let expired: Vec<(Vec<u8>, SystemTime)> = batch
            .drain(..)
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(k, s)| (k, s.expires_at))
            .collect();
        if expired.is_empty() {
            return true;
        }
        let done = db.update(|tx| {
            let mut n = 0;
            for (hash, at) in &expired {
                n += usize::from(remove_if_expired(tx, hash, *at)?);
            }
            Ok::<_, vbolt::Error>(n)
        });
        match done {
            Ok(n) => {
                removed += n;
                true
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })?;
    failed.map_or(Ok(removed), Err)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; `None` if it is not one.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 4096 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(unhex(&hex(&[0, 0xab, 0xff])), Some(vec![0, 0xab, 0xff]));
        for bad in ["0", "zz", "+f", "0g", " 0"] {
            assert_eq!(unhex(bad), None, "{bad:?}");
        }
    }
}
