//! The accept loop: HTTP/1 connections with a deadline for each request's
//! headers and a bound on how many are served at once, each request
//! tagged with its peer address for the rate limits.
//!
//! `axum::serve` sets neither bound: a client that opens connections and
//! never finishes a request's headers keeps them open for ever. Here a
//! connection that has not sent a whole header block within
//! [`Limits::header_timeout`] is closed (an idle kept-alive connection
//! too), and past [`Limits::connections`] the loop stops accepting, so
//! new connections wait in the kernel's listen queue instead of costing
//! memory here. The few requests hyper cannot parse get the API's JSON
//! error too ([`parse_errors`]).

pub mod parse_errors;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::limits::Limits;

/// Serves `app` on `listener` until `shutdown` resolves, then waits for
/// the open connections to finish their requests.
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of file descriptors or memory: wait for connections
                // to close rather than spin.
                eprintln!("chat-web: cannot accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            tower_service::Service::call(&mut app, req.map(axum::body::Body::new))
        });
        let io = TokioIo::new(parse_errors::JsonParseErrors::new(stream));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            // A connection's end (the client went away, a header timeout)
            // is no error of the server's.
            let _ = connection.await;
            drop(slot);
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// Errors of one incoming connection, not of the listener.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// The peer address of a request (set by [`accept_loop`]); `None` for a
/// request that did not come through it (a test calling the router).
pub fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a)
}

/// The client's IP address, as an extractor: `None` when the request did
/// not come through [`accept_loop`] (then no per-address limit applies).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<ClientAddress, Self::Rejection> {
        Ok(ClientAddress(peer(&parts.extensions).map(|a| a.ip())))
    }
}
