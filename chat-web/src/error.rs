//! The API's errors: every refusal is a JSON body
//! `{"error": code, "message": text}`, a 4xx for what the request asked,
//! a 503 with `Retry-After` for a bound every client shares (hashers,
//! event streams); 429 and 503 answers say in `Retry-After` when to try
//! again. Only a failing database is a 500, and then the body says so
//! without leaking internals.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use vbolt_examples::chat::ChatError;

use crate::hashing::HashError;

/// A refused or failed request.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable code (`not_a_participant`).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// How long to wait before trying again (`Retry-After`), for 429 and
    /// 503.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: this client (address or handle) is over a rate limit.
    pub fn slow_down(wait: Duration) -> ApiError {
        ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                format!("too many attempts; try again in {} s", whole_seconds(wait)),
            )
        }
    }

    /// 503: the server is at a bound shared by every client; try again
    /// after `wait`.
    pub fn busy(code: &'static str, message: impl Into<String>, wait: Duration) -> ApiError {
        ApiError {
            retry_after: Some(wait),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no valid session.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "not_logged_in", "log in first")
    }

    /// 403: a thread the user does not take part in.
    pub fn not_a_participant() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "not_a_participant",
            "you do not take part in this thread",
        )
    }

    /// 404: no such thing.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 500: the server could not do its part.
    pub fn internal(what: impl std::fmt::Display) -> ApiError {
        eprintln!("chat-web: internal error: {what}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; nothing was changed",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
        }
        res
    }
}

impl From<vbolt::Error> for ApiError {
    fn from(e: vbolt::Error) -> ApiError {
        match e {
            vbolt::Error::InvalidCursor { .. } => ApiError::bad_request(
                "bad_cursor",
                "the cursor does not belong to this list (use the `next` value you were given)",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> ApiError {
        match e {
            ChatError::HandleTaken(h) => ApiError::new(
                StatusCode::CONFLICT,
                "handle_taken",
                format!("the handle {h:?} is taken"),
            ),
            ChatError::UnknownUser => ApiError::not_found("unknown_user", "no such user"),
            ChatError::UnknownThread => ApiError::not_found("unknown_thread", "no such thread"),
            ChatError::NotAParticipant => ApiError::not_a_participant(),
            ChatError::Db(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let code = match r {
            JsonRejection::JsonDataError(_) => "bad_json_data",
            JsonRejection::JsonSyntaxError(_) => "bad_json",
            JsonRejection::MissingJsonContentType(_) => "not_json",
            _ => "bad_body",
        };
        ApiError::new(r.status(), code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::new(r.status(), "bad_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::new(r.status(), "bad_path", r.body_text())
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> ApiError {
        match e {
            HashError::Busy => ApiError::busy(
                "busy",
                "the server is checking too many passwords; try again shortly",
                Duration::from_secs(1),
            ),
            failed @ HashError::Failed(_) => ApiError::internal(failed),
        }
    }
}

/// Seconds to wait, rounded up, at least 1.
fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal(e)
    }
}
