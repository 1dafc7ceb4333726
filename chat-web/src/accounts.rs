//! Accounts and sessions: password hashes (Argon2id) and session tokens,
//! kept in two buckets beside the chat's own, and the [`Me`] extractor that
//! turns a session cookie into the user making the request.
//!
//! A session token is 32 random bytes, sent to the browser as an HttpOnly,
//! SameSite=Strict cookie; the database stores only its BLAKE2b hash, so a
//! copy of the file opens no session.

use std::time::{Duration, SystemTime};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
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
pub static PASSWORDS: Bucket<Uuid, String> = Bucket::new("passwords", vpack::uuid, vpack::string);

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
pub static SESSIONS: Bucket<Vec<u8>, Session> =
    Bucket::new("sessions", vpack::bytes, Session::pack);

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

/// Hashes `password` with Argon2id and a fresh salt. Slow on purpose (tens
/// of milliseconds): call it from a blocking task.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(ApiError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// A hash of a random password, made once: what a login with an unknown
/// handle is checked against.
pub fn decoy_hash() -> Result<&'static str, ApiError> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DECOY.get() {
        return Ok(h);
    }
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(ApiError::internal)?;
    let hash = hash_password(&hex(&secret))?;
    Ok(DECOY.get_or_init(|| hash))
}

/// True if `password` matches the stored `hash`.
pub fn verify_password(password: &str, hash: &str) -> Result<bool, ApiError> {
    let parsed = PasswordHash::new(hash).map_err(ApiError::internal)?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

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

fn token_hash(token: &[u8]) -> Vec<u8> {
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

/// The session token of the request's cookie, if any.
pub fn cookie_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

/// The user making the request: any handler that takes `Me` answers 401
/// without a valid, unexpired session.
#[derive(Debug, Clone)]
pub struct Me {
    /// The user.
    pub user: User,
    /// The session token (hex), for logging out.
    pub token: String,
}

impl FromRequestParts<AppState> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Me, ApiError> {
        let token = cookie_token(parts).ok_or_else(ApiError::unauthenticated)?;
        let bytes = unhex(&token).ok_or_else(ApiError::unauthenticated)?;
        let user = app.db.view(|tx| {
            let Some(session) = get(tx, &SESSIONS, token_hash(&bytes))? else {
                return Ok(None);
            };
            if session.expires_at < SystemTime::now() {
                return Ok(None);
            }
            get(tx, &chat::USERS, session.user_id)
        })?;
        let user = user.ok_or_else(ApiError::unauthenticated)?;
        Ok(Me { user, token })
    }
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
    fn passwords_hash_with_a_fresh_salt_and_verify() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse", &a).unwrap());
        assert!(!verify_password("correct horsE", &a).unwrap());
    }

    #[test]
    fn the_decoy_is_one_real_hash_that_no_guess_matches() {
        let decoy = decoy_hash().unwrap();
        assert!(decoy.starts_with("$argon2id$"), "{decoy}");
        assert_eq!(decoy_hash().unwrap(), decoy, "made once");
        for guess in ["", "password", "correct horse"] {
            assert!(!verify_password(guess, decoy).unwrap());
        }
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(unhex(&hex(&[0, 0xab, 0xff])), Some(vec![0, 0xab, 0xff]));
        for bad in ["0", "zz", "+f", "0g", " 0"] {
            assert_eq!(unhex(bad), None, "{bad:?}");
        }
    }
}
