//! The synchronous bridge to the asynchronous etcd client: a private
//! runtime runs each request, and the calling thread waits on a channel
//! (which works from any thread, also from inside another runtime's task,
//! unlike `block_on`). Reads are retried while the cluster has no leader;
//! errors are mapped to [`Error`] here.

use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use etcd_client::{Client, ConnectOptions};

use crate::error::Error;

/// How long a read keeps retrying while the cluster elects a leader or a
/// member is unreachable.
const RETRY_FOR: Duration = Duration::from_secs(15);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The client and the runtime that drives it.
pub(super) struct Bridge {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

/// What a request failed with, before mapping: whether it is worth
/// retrying and whether it may have reached the server.
pub(super) type EtcdError = etcd_client::Error;

impl Bridge {
    /// Connects to the cluster at `endpoints` (`http://host:port`).
    pub fn connect(endpoints: &[String]) -> Result<Bridge, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vbolt-etcd")
            .enable_all()
            .build()?;
        let endpoints = endpoints.to_vec();
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(REQUEST_TIMEOUT)
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5));
        let client = wait(&runtime, async move {
            Client::connect(endpoints, Some(options)).await
        })
        .map_err(|e| Error::Engine(format!("cannot connect to etcd: {e}")))?;
        Ok(Bridge { runtime, client })
    }

    /// Runs one request once (for requests that must not be repeated
    /// blindly: commits).
    pub fn once<T, F>(&self, request: impl FnOnce(Client) -> F) -> Result<T, EtcdError>
    where
        F: Future<Output = Result<T, EtcdError>> + Send + 'static,
        T: Send + 'static,
    {
        wait(&self.runtime, request(self.client.clone()))
    }

    /// Runs a request that can be repeated safely (a read, or a write whose
    /// effect does not depend on being applied once), retrying while the
    /// cluster is unavailable, for at most [`RETRY_FOR`].
    pub fn retrying<T, F>(&self, request: impl Fn(Client) -> F) -> Result<T, EtcdError>
    where
        F: Future<Output = Result<T, EtcdError>> + Send + 'static,
        T: Send + 'static,
    {
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            match self.once(&request) {
                Err(e) if is_transient(&e) && start.elapsed() < RETRY_FOR => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }
}

/// Runs `future` on `runtime` and waits for it on this thread.
fn wait<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    future: impl Future<Output = Result<T, EtcdError>> + Send + 'static,
) -> Result<T, EtcdError> {
    let (send, receive) = mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = send.send(future.await);
    });
    receive.recv().unwrap_or_else(|_| {
        Err(etcd_client::Error::IoError(std::io::Error::other(
            "the etcd runtime stopped",
        )))
    })
}

/// True for failures that say nothing about the data: no leader, a member
/// down, a timeout, a broken connection. A request that failed this way
/// may still have been applied (for a commit, see the write module).
pub(super) fn is_transient(e: &EtcdError) -> bool {
    match e {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(s) => {
            matches!(
                i32::from(s.code()),
                grpc::UNKNOWN | grpc::DEADLINE_EXCEEDED | grpc::ABORTED | grpc::UNAVAILABLE
            ) && !is_limit(s.message())
        }
        _ => false,
    }
}

/// The gRPC status codes that matter here (their numbers are fixed by the
/// gRPC specification).
mod grpc {
    pub const UNKNOWN: i32 = 2;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const ABORTED: i32 = 10;
    pub const UNAVAILABLE: i32 = 14;
}

fn is_limit(message: &str) -> bool {
    message.contains("too many operations") || message.contains("request is too large")
}

/// Maps a failed request to vbolt's error.
pub(super) fn to_error(e: EtcdError) -> Error {
    if let etcd_client::Error::GRpcStatus(s) = &e {
        let m = s.message();
        if m.contains("too many operations in txn request") {
            return Error::LimitExceeded(
                "more operations than the cluster takes in one transaction (etcd's \
                 --max-txn-ops, 128 by default)"
                    .into(),
            );
        }
        if m.contains("request is too large") || i32::from(s.code()) == grpc::RESOURCE_EXHAUSTED {
            return Error::LimitExceeded(format!(
                "more bytes than the cluster takes in one request (etcd's --max-request-bytes, \
                 1.5 MiB by default): {m}"
            ));
        }
    }
    Error::Engine(format!("etcd: {e}"))
}

/// True if the error says the revision read has been compacted away.
pub(super) fn is_compacted(e: &EtcdError) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s) if s.message().contains("compacted"))
}
