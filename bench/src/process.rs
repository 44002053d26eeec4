//! The processes under test: started pinned to the server core, their output kept in a log for a
//! failure's message, their memory and CPU read from `/proc`, and killed when dropped.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// Pins this process (every thread it has now, and so every thread started later) to `core`.
/// `taskset` rather than `sched_setaffinity`: the workspace forbids `unsafe`.
pub(crate) fn pin_self(core: usize) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &core.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .context("running taskset (util-linux) to pin the load generator")?;
    anyhow::ensure!(status.success(), "taskset could not pin us to core {core}");
    Ok(())
}

/// A free local port (bound and released: another process could take it in between, which a
/// failed start then reports).
pub(crate) fn free_address() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// A process under test.
#[derive(Debug)]
pub(crate) struct Server {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts `program args` under `taskset -c core`, with `env`, its output to `log`.
    pub(crate) fn start(
        name: &str,
        core: &str,
        program: &Path,
        args: &[&str],
        env: &[(&str, String)],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let output = std::fs::File::create(&log).context("creating the server log")?;
        let child = Command::new("taskset")
            .arg("-c")
            .arg(core)
            .arg(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// `taskset` execs the program, so its pid is the server's.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the server's log, for an error message.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Fails with the log when the process has already exited.
    pub(crate) fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            anyhow::bail!(
                "{} exited ({status}); its log ends:\n{}",
                self.name,
                self.log_tail()
            );
        }
        Ok(())
    }

    /// Resident memory now, in bytes (`VmRSS` of `/proc/PID/status`).
    pub(crate) fn rss(&self) -> anyhow::Result<u64> {
        rss_of(self.pid())
    }

    /// CPU time used so far (user + system).
    pub(crate) fn cpu(&self) -> anyhow::Result<Duration> {
        cpu_of(&self.pid().to_string())
    }

    /// Waits until `ready` answers, or the process dies, or `timeout` passes.
    pub(crate) async fn wait_until<F, Fut>(
        &mut self,
        timeout: Duration,
        mut ready: F,
    ) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            if ready().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "{} not ready after {timeout:?}; its log ends:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A benchmark's server holds nothing worth a graceful shutdown, and SIGKILL cannot be
        // held up by calls in flight.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("VmRSS without a value")?
        .parse()?;
    Ok(kib * 1024)
}

/// CPU time (user + system) of `/proc/<pid>` (`self` for this process).
pub(crate) fn cpu_of(pid: &str) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    let ticks: u64 = fields.get(11).context("no utime")?.parse::<u64>()?
        + fields.get(12).context("no stime")?.parse::<u64>()?;
    // USER_HZ is 100 on every Linux ABI in use.
    Ok(Duration::from_millis(ticks * 10))
}

/// Runs a command to completion, failing with its stderr.
pub(crate) fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
