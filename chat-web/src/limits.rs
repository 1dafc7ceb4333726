//! How much work one client may cause: every bound the server enforces,
//! in one place, with the values it uses by default.
//!
//! The defaults are for a small deployment facing the internet directly:
//!
//! | bound | default | answer past it |
//! |---|---|---|
//! | password hashes at once | the core count | waits in a queue |
//! | password hashes waiting | 4 per hasher | 503 `busy`, `Retry-After` |
//! | logins and signups per client address | 20 at once, then 1 per 3 s | 429 `slow_down`, `Retry-After` |
//! | signups per client address | 5 at once, then 1 per 10 min | 429 `slow_down`, `Retry-After` |
//! | failed logins per handle | 10 at once, then 1 per min | 429 `slow_down`, `Retry-After` |
//! | time to send a request's headers | 10 s | connection closed |
//! | open connections | 1,024 | new ones wait in the kernel's queue |
//! | event streams per session | 8 | 429 `too_many_streams` |
//! | event streams in all | 1,000 | 503 `too_many_streams` |
//! | expired sessions | removed on use and every 10 min | |
//!
//! A client address is the peer's IP address, IPv6 addresses grouped by
//! their /64 (one host usually holds the whole /64). Behind a reverse
//! proxy every request comes from the proxy: there, rate-limit at the
//! proxy.

use std::time::Duration;

/// A token bucket: `burst` actions at once, then one more every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many actions a client may take at once, from rest.
    pub burst: u32,
    /// How long one more action takes to earn.
    pub every: Duration,
}

impl Rate {
    /// `burst` at once, then one per `every`.
    pub const fn new(burst: u32, every: Duration) -> Rate {
        Rate { burst, every }
    }

    /// No limit at all (for tests and trusted networks).
    pub const UNLIMITED: Rate = Rate {
        burst: u32::MAX,
        every: Duration::ZERO,
    };
}

/// Every bound of the server; [`Limits::default`] gives the table above.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Password hashes computed at once (each holds about 19 MiB).
    pub hashers: usize,
    /// Password hashes that may wait for a hasher; past that, 503.
    pub hash_queue: usize,
    /// Logins and signups per client address (each costs a hash).
    pub logins_per_address: Rate,
    /// Signups per client address.
    pub signups_per_address: Rate,
    /// Failed logins per handle (guessing one account's password from many
    /// addresses).
    pub failed_logins_per_handle: Rate,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub connections: usize,
    /// Event streams one session may hold open.
    pub streams_per_session: usize,
    /// Event streams open in all.
    pub streams: usize,
    /// How often expired sessions are removed.
    pub sweep_every: Duration,
    /// The most keys a rate limit remembers (addresses or handles); past
    /// it, keys at rest are forgotten, and if none is, new keys wait.
    pub remembered_keys: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Limits {
            hashers: cores,
            hash_queue: 4 * cores,
            logins_per_address: Rate::new(20, Duration::from_secs(3)),
            signups_per_address: Rate::new(5, Duration::from_secs(600)),
            failed_logins_per_handle: Rate::new(10, Duration::from_secs(60)),
            header_timeout: Duration::from_secs(10),
            connections: 1024,
            streams_per_session: 8,
            streams: 1000,
            sweep_every: Duration::from_secs(600),
            remembered_keys: 100_000,
        }
    }
}

impl Limits {
    /// The defaults without the per-address and per-handle rate limits:
    /// for tests and load runs where every client is on one address.
    pub fn without_rate_limits() -> Limits {
        Limits {
            logins_per_address: Rate::UNLIMITED,
            signups_per_address: Rate::UNLIMITED,
            failed_logins_per_handle: Rate::UNLIMITED,
            ..Limits::default()
        }
    }
}
