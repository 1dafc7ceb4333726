//! Rate limits keyed by client address or handle.
//!
//! Each key keeps one instant, its *allowed-at*: the generic cell rate
//! algorithm. An action at `now` moves the key's allowed-at to
//! `max(allowed_at, now) + every`, and is refused while that would run
//! further ahead of `now` than the burst allows. A refusal says how long
//! to wait. A key whose allowed-at has passed is at rest and is forgotten
//! when the table is full, so memory is bounded by
//! [`Limits::remembered_keys`](crate::limits::Limits::remembered_keys).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::limits::{Limits, Rate};

/// The server's rate limits on logging in and signing up.
pub struct Throttles {
    /// Logins and signups per client address.
    pub logins_by_address: Throttle<IpAddr>,
    /// Signups per client address.
    pub signups_by_address: Throttle<IpAddr>,
    /// Failed logins per handle.
    pub failures_by_handle: Throttle<String>,
}

impl Throttles {
    /// The rate limits of `limits`.
    pub fn new(limits: &Limits) -> Throttles {
        let keys = limits.remembered_keys;
        Throttles {
            logins_by_address: Throttle::new(limits.logins_per_address, keys),
            signups_by_address: Throttle::new(limits.signups_per_address, keys),
            failures_by_handle: Throttle::new(limits.failed_logins_per_handle, keys),
        }
    }

    /// Forgets every key at rest (the periodic sweep).
    pub fn forget_rested(&self, now: Instant) {
        self.logins_by_address.forget_rested(now);
        self.signups_by_address.forget_rested(now);
        self.failures_by_handle.forget_rested(now);
    }
}

/// One rate limit, one allowed-at instant per key.
pub struct Throttle<K> {
    rate: Rate,
    max_keys: usize,
    keys: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    /// A limit of `rate` per key, remembering at most `max_keys` keys.
    pub fn new(rate: Rate, max_keys: usize) -> Throttle<K> {
        Throttle {
            rate,
            max_keys: max_keys.max(1),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one action of `key`, or refuses it with how long to wait.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        self.decide(key, now, true)
    }

    /// Whether `key` could act now, without counting an action.
    pub fn peek(&self, key: &K, now: Instant) -> Result<(), Duration> {
        self.decide(key, now, false)
    }

    fn decide(&self, key: &K, now: Instant, count: bool) -> Result<(), Duration> {
        if self.rate.every.is_zero() || self.rate.burst == u32::MAX {
            return Ok(());
        }
        // How far ahead of now a key's allowed-at may run: the burst less
        // the action being decided.
        let slack = self.rate.every * self.rate.burst.saturating_sub(1);
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let allowed_at = keys.get(key).copied().unwrap_or(now).max(now);
        let ahead = allowed_at - now;
        if ahead > slack || self.rate.burst == 0 {
            // Waiting until allowed-at falls back within the slack.
            return Err((ahead - slack).max(Duration::from_secs(1)));
        }
        if !count {
            return Ok(());
        }
        if !keys.contains_key(key) && keys.len() >= self.max_keys {
            keys.retain(|_, at| *at > now);
            if keys.len() >= self.max_keys {
                // Every remembered key is busy: refuse newcomers rather
                // than forget a key that is being limited.
                return Err(self.rate.every);
            }
        }
        keys.insert(key.clone(), allowed_at + self.rate.every);
        Ok(())
    }

    /// Forgets the keys at rest; returns how many are still remembered.
    pub fn forget_rested(&self, now: Instant) -> usize {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.retain(|_, at| *at > now);
        keys.len()
    }
}

/// The key of a client address: IPv4 as it is, IPv6 by its /64 network
/// (an IPv4-mapped IPv6 address counts as the IPv4 address).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_period_and_the_wait_is_told() {
        let t = Throttle::new(Rate::new(3, Duration::from_secs(10)), 10);
        let start = Instant::now();
        for _ in 0..3 {
            t.take(&"a", start).unwrap();
        }
        let wait = t.take(&"a", start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        assert!(t.take(&"b", start).is_ok(), "keys are separate");
        // Earned back one action after one period, not more.
        let later = start + Duration::from_secs(10);
        t.take(&"a", later).unwrap();
        assert!(t.take(&"a", later).is_err());
        // A peek counts nothing.
        let rested = start + Duration::from_secs(100);
        for _ in 0..10 {
            t.peek(&"a", rested).unwrap();
        }
        for _ in 0..3 {
            t.take(&"a", rested).unwrap();
        }
        assert!(t.peek(&"a", rested).is_err());
    }

    #[test]
    fn a_full_table_forgets_keys_at_rest_and_refuses_when_none_is() {
        let t = Throttle::new(Rate::new(1, Duration::from_secs(10)), 2);
        let start = Instant::now();
        t.take(&1, start).unwrap();
        t.take(&2, start).unwrap();
        assert!(t.take(&3, start).is_err(), "both keys are being limited");
        let rested = start + Duration::from_secs(10);
        t.take(&3, rested).unwrap();
        assert_eq!(t.forget_rested(rested), 1);
    }

    #[test]
    fn unlimited_remembers_nothing() {
        let t = Throttle::new(Rate::UNLIMITED, 1);
        let now = Instant::now();
        for k in 0..100 {
            t.take(&k, now).unwrap();
        }
        assert_eq!(t.forget_rested(now), 0);
    }

    #[test]
    fn ipv6_addresses_group_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
