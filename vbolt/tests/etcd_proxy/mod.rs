//! A TCP proxy in front of one etcd member that loses the answer to the
//! next request once armed: the request reaches the member (and may be
//! applied), and the client cannot know. Two ways to lose it:
//!
//! - [`Loss::Cut`]: the connection is closed at the first bytes of the
//!   answer (a reset connection);
//! - [`Loss::Withhold`]: the answer, and everything after it, is held back
//!   while the connection stays open, as from a member that stopped
//!   answering, until [`Proxy::disarm`] closes the connection.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// How an armed proxy loses the answer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    Cut,
    Withhold,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<AtomicU8>,
    /// Answers lost so far.
    pub lost: Arc<AtomicUsize>,
}

/// `state`: waiting, armed for the next request, the request went
/// through (its answer is lost), or holding back until disarmed.
const IDLE: u8 = 0;
const ARMED: u8 = 1;
const SENT: u8 = 2;
const HOLDING: u8 = 3;

impl Proxy {
    pub fn start(target: &str, loss: Loss) -> Proxy {
        let target = target.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(AtomicU8::new(IDLE));
        let lost = Arc::new(AtomicUsize::new(0));
        let (st, ls) = (state.clone(), lost.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let (mut c_in, mut c_out) = (client.try_clone().unwrap(), client);
                let (mut s_in, mut s_out) = (server.try_clone().unwrap(), server);
                let up = st.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 << 10];
                    while let Ok(n @ 1..) = c_in.read(&mut buf) {
                        if s_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        let _ =
                            up.compare_exchange(ARMED, SENT, Ordering::SeqCst, Ordering::SeqCst);
                    }
                    let _ = s_out.shutdown(Shutdown::Both);
                });
                let (down, lost) = (st.clone(), ls.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 << 10];
                    let mut holding = false;
                    while let Ok(n @ 1..) = s_in.read(&mut buf) {
                        if !holding
                            && down
                                .compare_exchange(SENT, HOLDING, Ordering::SeqCst, Ordering::SeqCst)
                                .is_ok()
                        {
                            lost.fetch_add(1, Ordering::SeqCst);
                            if loss == Loss::Cut {
                                down.store(IDLE, Ordering::SeqCst);
                                break;
                            }
                            holding = true;
                        }
                        if holding {
                            if down.load(Ordering::SeqCst) == HOLDING {
                                continue; // the answer is held back
                            }
                            break; // disarmed: the connection ends
                        }
                        if c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_out.shutdown(Shutdown::Both);
                    let _ = s_in.shutdown(Shutdown::Both);
                });
            }
        });
        Proxy { addr, state, lost }
    }

    /// Loses the answer to the next request.
    pub fn arm(&self) {
        self.state.store(ARMED, Ordering::SeqCst);
    }

    /// Stops holding back (the held connection closes at its next bytes).
    pub fn disarm(&self) {
        self.state.store(IDLE, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
