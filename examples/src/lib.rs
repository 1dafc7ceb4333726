//! Worked examples of vbolt, used by the runnable examples, the tutorial
//! (`docs/tutorial.md`) and the integration tests.
//!
//! - [`chat`]: group chat: users, threads, messages, unread markers and
//!   paginated history.
//! - [`blog`]: articles in categories, precomputed summaries, paged
//!   listings with counts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blog;
pub mod chat;
