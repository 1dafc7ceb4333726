//! The synchronous bridge to the asynchronous etcd client: a private
//! runtime runs each request, and the calling thread waits on a channel
//! (which works from any thread, also from inside another runtime's task,
//! unlike `block_on`). Errors are mapped to [`Error`] here.
//!
//! # Which member answers
//!
//! The bridge keeps one client per member and sends every request to the
//! *current* member. Each request has a deadline
//! ([`EtcdOptions::request_timeout`](crate::EtcdOptions::request_timeout)):
//! a member that is paused, partitioned or overloaded keeps its TCP
//! connection open and never answers, and only a deadline tells. A
//! request that fails at the transport level (deadline, cancelled, reset
//! connection, no leader, member unavailable) makes the next member
//! current, so the next request (a read's retry, a commit's settle step)
//! goes elsewhere. A member that missed a deadline is passed over for
//! [`SUSPECT_FOR`] (unless every member is), so a stalled member costs one
//! deadline, not a whole pause. The clients also ask members to refuse a
//! request at once while they have no leader (gRPC "require leader"),
//! instead of holding it through an election.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use etcd_client::{Client, ConnectOptions};

use crate::error::Error;

/// How long a read keeps retrying while the cluster elects a leader or a
/// member is unreachable.
pub(super) const RETRY_FOR: Duration = Duration::from_secs(15);
/// The longest deadline a retried request grows to.
const MAX_DEADLINE: Duration = Duration::from_secs(10);
/// How long a member that missed a deadline is passed over.
const SUSPECT_FOR: Duration = Duration::from_secs(3);

/// The clients (one per member) and the runtime that drives them.
pub(super) struct Bridge {
    runtime: tokio::runtime::Runtime,
    clients: Vec<Client>,
    /// The member requests go to.
    current: AtomicUsize,
    /// The deadline of a request's first attempt.
    deadline: Duration,
    /// Per member: until when it is passed over (milliseconds since
    /// `epoch`; 0: it is not).
    suspect: Vec<AtomicU64>,
    epoch: Instant,
}

/// What a request failed with, before mapping.
pub(super) type EtcdError = etcd_client::Error;

impl Bridge {
    /// Connects to the cluster at `endpoints` (`http://host:port`), one
    /// client per member; each request gets `deadline` (its retries more).
    pub fn connect(endpoints: &[String], deadline: Duration) -> Result<Bridge, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vbolt-etcd")
            .enable_all()
            .build()?;
        let options = ConnectOptions::new()
            .with_connect_timeout(deadline.max(Duration::from_millis(500)))
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5))
            .with_require_leader(true);
        let mut clients = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let (endpoint, options) = (endpoint.clone(), options.clone());
            // Connecting does not wait for the member: one that is down
            // now is tried when it becomes current.
            let client = wait(&runtime, async move {
                Client::connect([endpoint], Some(options)).await
            })
            .map_err(|e| Error::Engine(format!("cannot connect to etcd: {e}")))?;
            clients.push(client);
        }
        Ok(Bridge {
            runtime,
            suspect: clients.iter().map(|_| AtomicU64::new(0)).collect(),
            clients,
            current: AtomicUsize::new(0),
            deadline,
            epoch: Instant::now(),
        })
    }

    /// Runs one request once, on the current member, within the first
    /// attempt's deadline (for requests that must not be repeated blindly:
    /// commits). A transport-level failure moves on to the next member.
    pub fn once<T, F>(&self, request: impl FnOnce(Client) -> F) -> Result<T, EtcdError>
    where
        F: Future<Output = Result<T, EtcdError>> + Send + 'static,
        T: Send + 'static,
    {
        self.attempt(0, request)
    }

    /// Attempt `n` (from 0) of a request: the deadline grows with `n`, so
    /// a request that is merely slow gets through once its members are
    /// all tried.
    pub fn attempt<T, F>(&self, n: u32, request: impl FnOnce(Client) -> F) -> Result<T, EtcdError>
    where
        F: Future<Output = Result<T, EtcdError>> + Send + 'static,
        T: Send + 'static,
    {
        let member = self.current.load(Ordering::Relaxed) % self.clients.len();
        let deadline = self
            .deadline
            .saturating_mul(n.saturating_add(1))
            .min(MAX_DEADLINE);
        let future = request(self.clients[member].clone());
        let result = wait(&self.runtime, async move {
            match tokio::time::timeout(deadline, future).await {
                Ok(result) => result,
                Err(_) => Err(etcd_client::Error::IoError(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {deadline:?}"),
                ))),
            }
        });
        if let Err(e) = &result
            && is_transient(e)
        {
            if is_deadline(e) {
                let until = self.now() + SUSPECT_FOR.as_millis() as u64;
                self.suspect[member].store(until, Ordering::Relaxed);
            }
            // Unless another thread moved on already.
            let _ = self.current.compare_exchange(
                member,
                self.next_after(member),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        result
    }

    /// Milliseconds since the bridge began (0 is "never").
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// The member after `member` that is not passed over (the very next
    /// one when all are).
    fn next_after(&self, member: usize) -> usize {
        let n = self.clients.len();
        let now = self.now();
        (1..=n)
            .map(|step| (member + step) % n)
            .find(|&m| self.suspect[m].load(Ordering::Relaxed) <= now)
            .unwrap_or((member + 1) % n)
    }

    /// Runs a request that can be repeated safely (a read, or a write whose
    /// effect does not depend on being applied once), retrying on the
    /// other members while the cluster is unavailable, for at most
    /// [`RETRY_FOR`].
    pub fn retrying<T, F>(&self, request: impl Fn(Client) -> F) -> Result<T, EtcdError>
    where
        F: Future<Output = Result<T, EtcdError>> + Send + 'static,
        T: Send + 'static,
    {
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        let mut n = 0;
        loop {
            match self.attempt(n / self.clients.len() as u32, &request) {
                Err(e) if is_transient(&e) && start.elapsed() < RETRY_FOR => {
                    n += 1;
                    // Each member once without a pause; then wait for the
                    // cluster (an election) between rounds.
                    if n.is_multiple_of(self.clients.len() as u32) {
                        std::thread::sleep(pause);
                        pause = (pause * 2).min(Duration::from_millis(500));
                    }
                }
                other => return other,
            }
        }
    }

    /// How many members the bridge knows.
    pub fn members(&self) -> usize {
        self.clients.len()
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
/// down, paused or cut off, a deadline, a cancelled or broken connection.
/// A request that failed this way may still have been applied (for a
/// commit, see the write module's settle step).
pub(super) fn is_transient(e: &EtcdError) -> bool {
    match e {
        etcd_client::Error::TransportError(_)
        | etcd_client::Error::IoError(_)
        | etcd_client::Error::WatchError(_)
        | etcd_client::Error::EndpointError(_) => true,
        etcd_client::Error::GRpcStatus(s) => {
            matches!(
                i32::from(s.code()),
                grpc::CANCELLED
                    | grpc::UNKNOWN
                    | grpc::DEADLINE_EXCEEDED
                    | grpc::ABORTED
                    | grpc::INTERNAL
                    | grpc::UNAVAILABLE
            ) && !is_limit(s.message())
                && !s.message().contains("compacted")
        }
        _ => false,
    }
}

/// True if the request missed its deadline (the member did not answer).
fn is_deadline(e: &EtcdError) -> bool {
    matches!(e, etcd_client::Error::IoError(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// The gRPC status codes that matter here (their numbers are fixed by the
/// gRPC specification).
mod grpc {
    pub const CANCELLED: i32 = 1;
    pub const UNKNOWN: i32 = 2;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const ABORTED: i32 = 10;
    pub const INTERNAL: i32 = 13;
    pub const UNAVAILABLE: i32 = 14;
}

/// Which of the cluster's limits a refused request went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limit {
    /// `--max-txn-ops`.
    Operations,
    /// `--max-request-bytes` (or the gRPC message size).
    Bytes,
}

fn is_limit(message: &str) -> bool {
    message.contains("too many operations") || message.contains("request is too large")
}

/// The limit a failed request went past, if that is why it failed.
pub(super) fn limit_of(e: &EtcdError) -> Option<Limit> {
    let etcd_client::Error::GRpcStatus(s) = e else {
        return None;
    };
    let m = s.message();
    if m.contains("too many operations in txn request") {
        Some(Limit::Operations)
    } else if m.contains("request is too large") || i32::from(s.code()) == grpc::RESOURCE_EXHAUSTED
    {
        Some(Limit::Bytes)
    } else {
        None
    }
}

/// Maps a failed request to vbolt's error.
pub(super) fn to_error(e: EtcdError) -> Error {
    match limit_of(&e) {
        Some(Limit::Operations) => Error::LimitExceeded(
            "more operations than the cluster takes in one transaction (etcd's \
             --max-txn-ops, 128 by default)"
                .into(),
        ),
        Some(Limit::Bytes) => Error::LimitExceeded(format!(
            "more bytes than the cluster takes in one request (etcd's --max-request-bytes, \
             1.5 MiB by default): {e}"
        )),
        None => Error::Engine(format!("etcd: {e}")),
    }
}

/// True if the error says the revision read has been compacted away.
pub(super) fn is_compacted(e: &EtcdError) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s) if s.message().contains("compacted"))
}
