//! A throwaway etcd cluster for tests: members on loopback ports, data in
//! a temporary directory, started from the `etcd` binary on `PATH` and
//! stopped by PID when the cluster is dropped (or, should the test process
//! die without unwinding, by a watchdog that notices it is gone).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The largest number of operations the test clusters take in one
/// transaction (etcd's default is 128).
pub const MAX_TXN_OPS: usize = 2048;

pub struct Member {
    name: String,
    client_url: String,
    peer_url: String,
    data_dir: PathBuf,
    pid_file: PathBuf,
    running: bool,
    /// The watchdog shell that started the member (it exits with it).
    watchdog: Option<std::process::Child>,
}

pub struct Cluster {
    members: Vec<Member>,
    initial: String,
    /// The members' `--max-txn-ops`.
    max_txn_ops: usize,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn etcd_binary() -> String {
    let found = Command::new("etcd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the etcd tests need the `etcd` binary on PATH (Debian: apt-get install etcd-server \
         etcd-client); .ci/run installs it"
    );
    "etcd".into()
}

impl Cluster {
    /// Starts `n` members and waits until the cluster serves requests.
    pub fn start(n: usize) -> Cluster {
        Cluster::start_with(n, MAX_TXN_OPS)
    }

    /// [`Cluster::start`] with members that take at most `max_txn_ops`
    /// operations per transaction (etcd's default is 128).
    ///
    /// A port found free may be taken before etcd binds it (another test's
    /// client connection gets it as its local port), and a member that
    /// cannot bind never comes up. So a cluster that does not come up is
    /// started again on fresh ports, up to three times, each failure
    /// printing its members' last log lines.
    pub fn start_with(n: usize, max_txn_ops: usize) -> Cluster {
        for attempt in 1..=3 {
            let cluster = Cluster::launch_all(n, max_txn_ops);
            if cluster.ready_within(Duration::from_secs(60)) {
                return cluster;
            }
            eprintln!(
                "etcd cluster, attempt {attempt} of 3, did not come up:\n{}",
                cluster.log_tails()
            );
        }
        panic!("the etcd cluster did not come up in three attempts (logs above)");
    }

    /// The last lines of every member's log.
    fn log_tails(&self) -> String {
        let mut out = String::new();
        for m in &self.members {
            let log = std::fs::read_to_string(m.data_dir.with_extension("log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            out.push_str(&format!("-- {}:\n", m.name));
            for l in &lines[lines.len().saturating_sub(5)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    fn launch_all(n: usize, max_txn_ops: usize) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client_url: format!("http://127.0.0.1:{}", free_port()),
                peer_url: format!("http://127.0.0.1:{}", free_port()),
                data_dir: dir.path().join(format!("m{i}")),
                pid_file: dir.path().join(format!("m{i}.pid")),
                running: false,
                watchdog: None,
            })
            .collect();
        let initial = members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Cluster {
            members,
            initial,
            max_txn_ops,
            _dir: dir,
        };
        for i in 0..n {
            cluster.launch(i, "new");
        }
        cluster
    }

    /// The client URLs of every member.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    fn launch(&mut self, i: usize, state: &str) {
        let etcd = etcd_binary();
        let m = &self.members[i];
        let log = std::fs::File::create(m.data_dir.with_extension("log")).unwrap();
        // The watchdog kills the member when this test process is gone.
        let script = r#"
            "$@" & pid=$!
            echo $pid > "$PIDFILE"
            while kill -0 "$PARENT" 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.2; done
            kill -9 $pid 2>/dev/null
            wait $pid
            # Once the test process is gone, its member's data goes too.
            kill -0 "$PARENT" 2>/dev/null || rm -rf "$DATADIR"
        "#;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(etcd)
            .args(["--name", &m.name])
            .arg("--data-dir")
            .arg(&m.data_dir)
            .args(["--listen-client-urls", &m.client_url])
            .args(["--advertise-client-urls", &m.client_url])
            .args(["--listen-peer-urls", &m.peer_url])
            .args(["--initial-advertise-peer-urls", &m.peer_url])
            .args(["--initial-cluster", &self.initial])
            .args(["--initial-cluster-state", state])
            .args(["--initial-cluster-token", "vbolt-test"])
            .args(["--max-txn-ops", &self.max_txn_ops.to_string()])
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .env("PIDFILE", &m.pid_file)
            .env("DATADIR", &m.data_dir)
            .env("PARENT", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        self.members[i].running = true;
        self.members[i].watchdog = Some(watchdog);
    }

    fn pid(&self, i: usize) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(p) = std::fs::read_to_string(&self.members[i].pid_file) {
                let p = p.trim().to_string();
                if !p.is_empty() {
                    return Some(p);
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `etcdctl` against member `i`; its output, if it succeeded.
    fn etcdctl(&self, i: usize, args: &[&str]) -> Option<String> {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.members[i].client_url))
            .args(["--command-timeout=2s", "--dial-timeout=1s"])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits until every running member answers and one of them leads.
    pub fn wait_ready(&self) {
        assert!(
            self.ready_within(Duration::from_secs(60)),
            "the etcd cluster did not come up:\n{}",
            self.log_tails()
        );
    }

    /// Whether every running member answers and one of them leads within
    /// `limit`.
    fn ready_within(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let healthy = self
                .members
                .iter()
                .enumerate()
                .filter(|(_, m)| m.running)
                .all(|(i, _)| self.etcdctl(i, &["endpoint", "health"]).is_some());
            if healthy && self.leader().is_some() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The member that leads, if a running one says it does.
    pub fn leader(&self) -> Option<usize> {
        (0..self.members.len()).find(|&i| {
            self.members[i].running
                && self
                    .etcdctl(i, &["endpoint", "status"])
                    // "URL, ID, VERSION, DB SIZE, IS LEADER, ..."
                    .is_some_and(|s| s.split(", ").nth(4) == Some("true"))
        })
    }

    /// Kills member `i` at once (SIGKILL), as a crash would.
    pub fn kill(&mut self, i: usize) {
        if let Some(pid) = self.pid(i) {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
        let _ = std::fs::remove_file(&self.members[i].pid_file);
        self.members[i].running = false;
        if let Some(mut w) = self.members[i].watchdog.take() {
            let _ = w.wait(); // it reaps the member and exits
        }
    }

    /// Stops member `i` without killing it (SIGSTOP): its connections stay
    /// open and nothing answers, as with a machine that hangs.
    pub fn pause(&self, i: usize) {
        if let Some(pid) = self.pid(i) {
            let _ = Command::new("kill").args(["-STOP", &pid]).status();
        }
    }

    /// Lets a paused member run again (SIGCONT).
    pub fn resume(&self, i: usize) {
        if let Some(pid) = self.pid(i) {
            let _ = Command::new("kill").args(["-CONT", &pid]).status();
        }
    }

    /// The members that are running.
    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// Starts member `i` again on its data.
    pub fn restart(&mut self, i: usize) {
        self.launch(i, "existing");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            if self.members[i].running {
                // A paused member does not die of SIGKILL until resumed on
                // some kernels' accounting; resume it first.
                self.resume(i);
                self.kill(i);
            }
        }
    }
}
