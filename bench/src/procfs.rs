//! What the benchmark reads about processes, and the child processes it runs.
//!
//! Server CPU time and memory are read from `/proc/<pid>` of a *child*
//! process (the real `otc-server` binary, or this binary's `relay`
//! subcommand), so the figures contain nothing of the load generator.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Raises the open-file limit (soft and, if allowed, hard) to `want`;
/// returns the soft limit in force afterwards. Children inherit it.
pub fn raise_nofile(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        let raised = libc::rlimit {
            rlim_cur: want.max(lim.rlim_cur),
            rlim_max: want.max(lim.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            // Not privileged: go as far as the hard limit allows.
            let soft = libc::rlimit {
                rlim_cur: want.min(lim.rlim_max).max(lim.rlim_cur),
                rlim_max: lim.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &soft);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}

/// User + system CPU time of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of stat(5); `rest` starts at field 3.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as f64 } else { 100.0 };
    Some((utime + stime) / hz)
}

fn status_field(pid: Option<u32>, name: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".into(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Resident memory in KiB (`VmRSS`); `None` = this process.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    status_field(pid, "VmRSS")
}

/// Number of threads; `None` = this process.
pub fn threads(pid: Option<u32>) -> Option<u64> {
    status_field(pid, "Threads")
}

/// A free loopback port (bound, read, released; the tiny race with other
/// programs is acceptable for a benchmark).
pub fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A server running as a child process; killed when dropped.
pub struct ChildServer {
    pub addr: SocketAddr,
    child: Child,
}

impl ChildServer {
    /// Starts `program args...` (which must listen on `addr`) and waits —
    /// at most 15 s — until it accepts TCP connections.
    pub fn spawn(
        name: &'static str,
        program: &Path,
        args: &[String],
        addr: SocketAddr,
    ) -> io::Result<ChildServer> {
        Self::spawn_with(name, program, args, addr, Stdio::inherit())
    }

    /// [`ChildServer::spawn`] with the child's standard error sent to
    /// `stderr` (e.g. a log file).
    pub fn spawn_with(
        name: &'static str,
        program: &Path,
        args: &[String],
        addr: SocketAddr,
        stderr: Stdio,
    ) -> io::Result<ChildServer> {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {program:?}: {e}")))?;
        let mut me = ChildServer { addr, child };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(me);
            }
            if let Ok(Some(status)) = me.child.try_wait() {
                return Err(io::Error::other(format!("{name} exited early: {status}")));
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "{name} did not start listening on {addr}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.pid())
    }

    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(Some(self.pid()))
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub fn stop(mut self, grace: Duration) {
        self.stop_inner(grace);
    }

    fn stop_inner(&mut self, grace: Duration) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop_inner(Duration::from_secs(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        assert!(rss_kib(None).is_some_and(|k| k > 0));
        assert!(threads(None).is_some_and(|t| t >= 1));
        assert!(cpu_seconds(std::process::id()).is_some());
    }
}
