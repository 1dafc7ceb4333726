//! redb's errors as vbolt's: converted here and nowhere else.

use super::key::KEY_TYPE_NAME;
use crate::error::Error;

// Engine errors are converted here, in the one module that knows the
// engine (error.rs names no engine). Every redb error type
// converts into `redb::Error`, which is mapped once.
impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Error {
        match e {
            // The engine reports a file that is not one of its own (wrong
            // magic bytes, impossible header) as invalid data.
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Error::Corrupted(io.to_string())
            }
            redb::Error::Io(io) => Error::Io(io),
            redb::Error::DatabaseAlreadyOpen => Error::InUse,
            redb::Error::Corrupted(why) => Error::Corrupted(why),
            redb::Error::UpgradeRequired(v) => Error::UpgradeRequired(v),
            // vbolt never aborts a repair itself, so this is a read-only
            // open that found the file in need of one.
            redb::Error::RepairAborted => Error::NeedsRecovery,
            redb::Error::TableTypeMismatch(m) => Error::Incompatible(format!(
                "table {:?} has keys of type {:?} and values of type {:?}; \
                 this version reads keys of type {:?}",
                m.table(),
                m.stored_key().name(),
                m.stored_value().name(),
                KEY_TYPE_NAME
            )),
            other => Error::Engine(other.to_string()),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::from(redb::Error::from(e))
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
