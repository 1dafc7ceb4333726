//! Password hashing with bounded memory and CPU: a fixed set of hasher
//! threads, each with its own Argon2 working memory, fed by a bounded
//! queue.
//!
//! Argon2id with the default parameters fills 19 MiB per hash, on
//! purpose. Hashed on an unbounded blocking pool, 50 concurrent logins
//! held gigabytes at once, and the allocator kept much of it afterwards.
//! Here at most [`Limits::hashers`](crate::limits::Limits::hashers) hashes
//! run at once, each hasher reuses one block of working memory for its
//! whole life, and a request that finds the queue full is refused at once
//! ([`HashError::Busy`], a 503 with `Retry-After`) instead of waiting
//! without bound.
//!
//! Stored hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`),
//! so their parameters can change later; a stored hash that asks for more
//! memory than a hasher holds is refused ([`HashError::Failed`]), never
//! allocated for.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// Why a hash was not computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    /// Every hasher is busy and the queue is full: try again shortly.
    Busy,
    /// The hash could not be computed (a malformed stored hash, a hasher
    /// that stopped, no randomness for a salt). The text says what.
    Failed(String),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Busy => f.write_str("every password hasher is busy"),
            HashError::Failed(why) => write!(f, "password hashing failed: {why}"),
        }
    }
}

enum Work {
    /// Hash a new password with a fresh salt; answers the PHC string.
    Hash(String),
    /// Check a password against a stored PHC string.
    Verify { password: String, stored: String },
}

enum Answer {
    Hashed(String),
    Verified(bool),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Answer, HashError>>,
}

/// The hasher threads and their queue. Dropping it lets the threads finish
/// the queued jobs and exit.
pub struct Hashers {
    queue: SyncSender<Job>,
}

impl Hashers {
    /// Starts `threads` hashers (at least one) behind a queue of `waiting`
    /// jobs.
    pub fn start(threads: usize, waiting: usize) -> std::io::Result<Hashers> {
        let (queue, jobs) = sync_channel::<Job>(waiting);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("hasher-{n}"))
                .spawn(move || serve(&jobs))?;
        }
        Ok(Hashers { queue })
    }

    /// Hashes `password` with Argon2id and a fresh salt: a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        match self.submit(Work::Hash(password)).await? {
            Answer::Hashed(phc) => Ok(phc),
            Answer::Verified(_) => Err(HashError::Failed("a check answered a hash".into())),
        }
    }

    /// True if `password` matches the PHC string `stored`.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, HashError> {
        match self.submit(Work::Verify { password, stored }).await? {
            Answer::Verified(ok) => Ok(ok),
            Answer::Hashed(_) => Err(HashError::Failed("a hash answered a check".into())),
        }
    }

    async fn submit(&self, work: Work) -> Result<Answer, HashError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { work, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(HashError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(HashError::Failed("every hasher thread has stopped".into()));
            }
        }
        answer
            .await
            .map_err(|_| HashError::Failed("the hasher thread stopped mid-job".into()))?
    }
}

/// One hasher thread: takes jobs until the queue closes, with one working
/// memory for all of them (allocated at the first job).
fn serve(jobs: &Mutex<Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        // The lock is held only while waiting for a job; the hash itself
        // runs unlocked.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        if job.reply.is_closed() {
            continue; // the request was dropped while it waited
        }
        if memory.is_empty() {
            memory = vec![Block::default(); Params::default().block_count()];
        }
        let answer = match job.work {
            Work::Hash(password) => hash(&password, &mut memory).map(Answer::Hashed),
            Work::Verify { password, stored } => {
                verify(&password, &stored, &mut memory).map(Answer::Verified)
            }
        };
        let _ = job.reply.send(answer);
    }
}

fn failed(what: &str) -> impl Fn(argon2::Error) -> HashError + '_ {
    move |e| HashError::Failed(format!("{what}: {e}"))
}

fn phc_failed(what: &str) -> impl Fn(argon2::password_hash::Error) -> HashError + '_ {
    move |e| HashError::Failed(format!("{what}: {e}"))
}

/// Argon2id with the default parameters and a fresh 16-byte salt.
fn hash(password: &str, memory: &mut [Block]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError::Failed(format!("no salt: {e}")))?;
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
        .map_err(failed("hashing"))?;
    let salt = SaltString::encode_b64(&salt).map_err(phc_failed("salt"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(phc_failed("parameters"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(phc_failed("output"))?),
    };
    Ok(phc.to_string())
}

/// Recomputes the stored hash's parameters over `password` and compares
/// in constant time.
fn verify(password: &str, stored: &str, memory: &mut [Block]) -> Result<bool, HashError> {
    let phc = PasswordHash::new(stored).map_err(phc_failed("stored hash"))?;
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(phc_failed("algorithm"))?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(failed("version"))?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).map_err(phc_failed("parameters"))?;
    if params.block_count() > memory.len() {
        return Err(HashError::Failed(format!(
            "the stored hash asks for {} KiB, more than a hasher holds ({} KiB)",
            params.m_cost(),
            memory.len()
        )));
    }
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Err(HashError::Failed(
            "the stored hash has no salt or no hash".into(),
        ));
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(phc_failed("salt"))?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        .map_err(failed("hashing"))?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(phc_failed("output"))? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    fn memory() -> Vec<Block> {
        vec![Block::default(); Params::default().block_count()]
    }

    #[test]
    fn hashes_verify_here_and_with_the_argon2_crate() {
        let mut mem = memory();
        let a = hash("correct horse", &mut mem).unwrap();
        let b = hash("correct horse", &mut mem).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse", &a, &mut mem).unwrap());
        assert!(!verify("correct horsE", &a, &mut mem).unwrap());
        // The same PHC strings as the argon2 crate writes and reads.
        let parsed = PasswordHash::new(&a).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        use argon2::PasswordHasher;
        let salt = SaltString::encode_b64(&[7; 16]).unwrap();
        let theirs = Argon2::default()
            .hash_password(b"pw-from-elsewhere", &salt)
            .unwrap()
            .to_string();
        assert!(verify("pw-from-elsewhere", &theirs, &mut mem).unwrap());
    }

    #[test]
    fn the_decoy_is_well_formed_and_matches_no_guess() {
        let mut mem = memory();
        for guess in ["", "password", "correct horse"] {
            assert!(!verify(guess, crate::accounts::DECOY_HASH, &mut mem).unwrap());
        }
    }

    #[test]
    fn a_stored_hash_asking_for_more_memory_is_refused_not_allocated() {
        let mut small = vec![Block::default(); 8 * 1024];
        let stored = hash("x-password", &mut memory()).unwrap();
        let err = verify("x-password", &stored, &mut small).unwrap_err();
        assert!(
            matches!(&err, HashError::Failed(m) if m.contains("19456 KiB")),
            "{err}"
        );
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(verify("x", huge, &mut memory()).is_err());
        assert!(verify("x", "not a hash", &mut memory()).is_err());
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        // One hasher, one place in the queue: of many submitted at once, some are
        // refused, none waits unboundedly, the rest succeed.
        let hashers = Arc::new(Hashers::start(1, 1).unwrap());
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let h = hashers.clone();
                tokio::spawn(async move { h.hash("long enough".into()).await })
            })
            .collect();
        let mut busy = 0;
        let mut done = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(phc) => {
                    assert!(phc.starts_with("$argon2id$"));
                    done += 1;
                }
                Err(HashError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(busy > 0 && done > 0, "busy {busy}, done {done}");
    }
}
