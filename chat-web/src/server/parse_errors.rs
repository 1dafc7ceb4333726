//! JSON answers to requests that are not HTTP.
//!
//! When a request cannot be parsed (raw bytes outside ASCII in its
//! target, a header block past the size limit, a malformed request line),
//! hyper answers by itself, before any route runs, with an empty body:
//! the one kind of refusal that would not be the API's JSON error. This
//! wrapper around the connection's socket recognises those answers as
//! they are written (a 4xx status line with `content-length: 0` and no
//! `content-type`: the application never writes one) and writes the JSON
//! error in their place. hyper closes the connection after them, so the
//! replacement's different length cannot confuse a following response.
//!
//! The wrapper declines vectored writes, so that hyper hands each
//! response head over in one buffer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A socket whose automatic parse-error answers become JSON.
pub struct JsonParseErrors<T> {
    io: T,
    /// A replacement answer not yet fully written, and how much of it is.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> JsonParseErrors<T> {
    /// Wraps a connection's socket.
    pub fn new(io: T) -> JsonParseErrors<T> {
        JsonParseErrors { io, pending: None }
    }
}

/// The JSON answer replacing `head`, if `head` is one of hyper's automatic
/// answers.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let status = head.strip_prefix(b"HTTP/1.1 4")?;
    let text = std::str::from_utf8(head).ok()?;
    let lower = text.to_ascii_lowercase();
    if !lower.contains("\r\ncontent-length: 0\r\n") || lower.contains("\r\ncontent-type:") {
        return None;
    }
    let (code, message) = match status.get(..2)? {
        b"31" => ("headers_too_large", "the request's headers are too large"),
        b"14" => ("uri_too_long", "the request's path is too long"),
        _ => (
            "bad_request",
            "the request is not valid HTTP (a path must be ASCII, its other bytes percent-encoded)",
        ),
    };
    let status_line = text.lines().next()?;
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/json\r\n\
             x-content-type-options: nosniff\r\ncache-control: no-store\r\n\
             connection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> JsonParseErrors<T> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = replacement(buf) {
            this.pending = Some((answer, 0));
            // hyper's bytes count as written; the replacement goes out
            // now or on the flush that follows.
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonParseErrors<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_4xx_heads_are_replaced() {
        let auto = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let json = String::from_utf8(replacement(auto).unwrap()).unwrap();
        assert!(json.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{json}");
        let (head, body) = json.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"], "bad_request");
        let big = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert!(
            String::from_utf8(replacement(big).unwrap())
                .unwrap()
                .contains("headers_too_large")
        );
        for kept in [
            &b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"error\":1}",
            b"{\"error\":\"body bytes\"}",
        ] {
            assert!(replacement(kept).is_none(), "{}", String::from_utf8_lossy(kept));
        }
    }
}
