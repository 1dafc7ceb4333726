//! What every API request and response goes through: the cross-site
//! checks on requests that change state, and the headers that keep
//! browsers and caches from misreading answers.
//!
//! The session cookie is `SameSite=Strict`, but "site" is wider than
//! "origin": another port on the same host, or a sibling subdomain, is
//! the same site and gets the cookie. So a request that changes state
//! (any method but `GET` and `HEAD`) must also
//! - carry `Content-Type: application/json`, which a page of another
//!   origin can only send after a CORS preflight this server never
//!   approves, and
//! - if it has an `Origin` header (browsers send one on every such
//!   request), name this server's own origin, the one in `Host`.
//!
//! Every API answer, refusals included, carries
//! `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, ORIGIN, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Middleware of the `/api` routes: refuses cross-site state changes,
/// then marks the answer.
pub async fn api_guard(req: Request, next: Next) -> Response {
    let mut res = match check_state_change(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    let headers = res.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The checks of a state-changing request; `Ok` for reads.
pub fn check_state_change(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if method == Method::GET || method == Method::HEAD {
        return Ok(());
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let host = headers.get(HOST).and_then(|h| h.to_str().ok());
        let same = match (origin.to_str(), host) {
            (Ok(origin), Some(host)) => {
                origin.strip_prefix("http://") == Some(host)
                    || origin.strip_prefix("https://") == Some(host)
            }
            _ => false,
        };
        if !same {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "requests that change state must come from this server's own pages",
            ));
        }
    }
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_json",
            "requests that change state send a JSON body (Content-Type: application/json)",
        ));
    }
    Ok(())
}

/// Refuses text with control characters (newlines and tabs allowed where
/// `lines` is true) or with the Unicode controls that reorder what is
/// shown around them (bidirectional embeddings, overrides and isolates).
pub fn check_visible_text(
    text: &str,
    lines: bool,
    code: &'static str,
    what: &str,
) -> Result<(), ApiError> {
    let bad = text.chars().find(|&c| {
        let layout = lines && (c == '\n' || c == '\t');
        (c.is_control() && !layout)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    });
    match bad {
        None => Ok(()),
        Some(c) => Err(ApiError::bad_request(
            code,
            format!(
                "{what} may not contain the control character U+{:04X}",
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn state_changes_need_json_and_the_servers_own_origin() {
        let post = Method::POST;
        let own = headers(&[
            ("host", "chat.example:8080"),
            ("origin", "http://chat.example:8080"),
            ("content-type", "application/json; charset=utf-8"),
        ]);
        assert!(check_state_change(&post, &own).is_ok());
        let no_origin = headers(&[("host", "h"), ("content-type", "application/json")]);
        assert!(check_state_change(&post, &no_origin).is_ok());
        for (origin, why) in [
            ("http://chat.example:8081", "another port"),
            ("http://evil.chat.example:8080", "a sibling"),
            ("null", "an opaque origin"),
        ] {
            let h = headers(&[
                ("host", "chat.example:8080"),
                ("origin", origin),
                ("content-type", "application/json"),
            ]);
            let e = check_state_change(&post, &h).unwrap_err();
            assert_eq!(e.code, "cross_origin", "{why}");
        }
        let form = headers(&[("host", "h"), ("content-type", "text/plain")]);
        assert_eq!(
            check_state_change(&post, &form).unwrap_err().code,
            "not_json"
        );
        assert!(check_state_change(&Method::GET, &form).is_ok());
    }

    #[test]
    fn control_and_reordering_characters_are_refused() {
        for ok in ["Ann", "Zoë 🦀", "a b"] {
            assert!(check_visible_text(ok, false, "c", "x").is_ok(), "{ok:?}");
        }
        assert!(check_visible_text("two\nlines\tok", true, "c", "x").is_ok());
        for bad in [
            "nul\0",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}",
            "rlo\u{202e}",
            "iso\u{2067}",
        ] {
            let e = check_visible_text(bad, true, "c", "x").unwrap_err();
            assert!(e.message.contains("U+"), "{bad:?}: {}", e.message);
        }
        assert!(check_visible_text("no\nbreaks", false, "c", "x").is_err());
    }
}
