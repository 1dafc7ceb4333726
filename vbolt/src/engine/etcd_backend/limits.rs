//! The cluster's limits on one transaction, and what a transaction costs
//! against them.
//!
//! etcd refuses a request with more operations than `--max-txn-ops` (128
//! by default) or more bytes than `--max-request-bytes` (1.5 MiB by
//! default). The server does not say what its limits are, so the store is
//! told them at open ([`EtcdOptions`](crate::EtcdOptions)) and lowers them
//! when the cluster refuses a commit they allowed: group commit asks after
//! every closure whether the transaction still [fits](Limits::check), and
//! cuts the group where it no longer does.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::bridge::Limit;
use crate::error::Error;

/// What one operation adds to a request beyond its key and value (the
/// protobuf framing of a put or delete inside a `Txn`), rounded up.
pub(super) const OP_OVERHEAD: usize = 16;
/// A request's own framing, its compares and the commit token, rounded up.
pub(super) const BASE_BYTES: usize = 512;

/// The limits in force for one store.
pub(super) struct Limits {
    ops: AtomicUsize,
    bytes: AtomicUsize,
}

/// What a transaction's commit request would hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Size {
    pub ops: usize,
    pub bytes: usize,
}

impl Limits {
    pub fn new(ops: usize, bytes: usize) -> Limits {
        Limits {
            ops: AtomicUsize::new(ops.max(2)),
            bytes: AtomicUsize::new(bytes.max(BASE_BYTES + OP_OVERHEAD)),
        }
    }

    /// `Ok` if a commit of `size` is within the limits;
    /// [`Error::LimitExceeded`] naming the limit otherwise.
    pub fn check(&self, size: Size) -> Result<(), Error> {
        let ops = self.ops.load(Ordering::Relaxed);
        if size.ops > ops {
            return Err(Error::LimitExceeded(format!(
                "{} operations in one transaction, more than the cluster takes ({ops}: etcd's \
                 --max-txn-ops, 128 by default; vbolt's EtcdOptions::max_txn_ops)",
                size.ops
            )));
        }
        let bytes = self.bytes.load(Ordering::Relaxed);
        if size.bytes > bytes {
            return Err(Error::LimitExceeded(format!(
                "about {} bytes in one request, more than the cluster takes ({bytes}: etcd's \
                 --max-request-bytes, 1.5 MiB by default; vbolt's EtcdOptions::max_request_bytes)",
                size.bytes
            )));
        }
        Ok(())
    }

    /// The cluster refused a commit of `size` for going past `limit`:
    /// from now on, anything that large does not fit.
    pub fn learn(&self, limit: Limit, size: Size) {
        match limit {
            Limit::Operations => {
                self.ops
                    .fetch_min(size.ops.saturating_sub(1).max(2), Ordering::Relaxed);
            }
            Limit::Bytes => {
                let floor = BASE_BYTES + OP_OVERHEAD;
                self.bytes
                    .fetch_min(size.bytes.saturating_sub(1).max(floor), Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_size_no_longer_fits_and_smaller_ones_still_do() {
        let limits = Limits::new(128, 1 << 20);
        let big = Size {
            ops: 100,
            bytes: 1000,
        };
        assert!(limits.check(big).is_ok());
        limits.learn(Limit::Operations, big);
        assert!(matches!(limits.check(big), Err(Error::LimitExceeded(_))));
        assert!(
            limits
                .check(Size {
                    ops: 99,
                    bytes: 1000
                })
                .is_ok()
        );
        limits.learn(
            Limit::Bytes,
            Size {
                ops: 10,
                bytes: 900,
            },
        );
        assert!(
            limits
                .check(Size {
                    ops: 10,
                    bytes: 900
                })
                .is_err()
        );
        assert!(
            limits
                .check(Size {
                    ops: 10,
                    bytes: 899
                })
                .is_ok()
        );
        // A larger refusal never raises a limit.
        limits.learn(Limit::Operations, Size { ops: 120, bytes: 1 });
        assert!(limits.check(Size { ops: 100, bytes: 1 }).is_err());
    }
}
