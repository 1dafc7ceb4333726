//! Worked examples of vbolt, used by the runnable examples, the tutorial
//! (`docs/tutorial.md`) and the integration tests.
//!
//! - [`chat`]: group chat: users, threads, messages, unread markers and
//!   paginated history.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chat;
