//! Running a long pulumi verb (`up`, `preview`) with its output streamed: every stdout and
//! stderr line goes to the caller as soon as pulumi prints it, under a deadline.
//!
//! As in `process.rs`, pulumi runs in its own process group. Because that group does not get
//! the terminal's Ctrl-C, stackwire passes SIGINT/SIGTERM on to it ([`Interrupts`]), so that
//! pulumi cancels the update cleanly instead of dying half-way through writing its state. At
//! the deadline pulumi is interrupted the same way and given [`CANCEL_GRACE`] to cancel (its
//! lock released, its plugins stopped); then it is killed with every process it started, its
//! plugins' own process groups included (`tree.rs`). Nothing here prints: the caller decides
//! where the lines go.

use std::io;
use std::process::Stdio;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::error::{Failure, PulumiError, Stopped};
use super::tree::Tree;
use super::{Invocation, Pulumi};

/// Lines of pulumi's stderr kept for the error message (the tail).
const KEPT_STDERR_LINES: usize = 200;
/// `error:` lines of pulumi's stdout kept for the error message (the first ones).
const KEPT_STDOUT_ERRORS: usize = 50;
/// How long pulumi may take to cancel after the deadline's interrupt before it is killed.
const CANCEL_GRACE: Duration = Duration::from_secs(15);

/// What happens while a streamed verb runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamEvent<'a> {
    /// A line pulumi printed on stdout (without its line ending).
    Stdout(&'a str),
    /// A line pulumi printed on stderr.
    Stderr(&'a str),
    /// stackwire got its `n`th SIGINT/SIGTERM during this run and passed it on to pulumi.
    Interrupted(u32),
}

/// SIGINT and SIGTERM, caught instead of ending stackwire, so that a deploy can pass them on
/// to pulumi and stop between steps.
pub(crate) struct Interrupts {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    count: u32,
}

impl Interrupts {
    /// Start catching (inside a tokio runtime). From now on these signals no longer end the
    /// process: the owner must check [`Interrupts::arrived`] between its steps.
    pub(crate) fn catch() -> io::Result<Self> {
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            count: 0,
        })
    }

    /// Wait for the next signal; returns it.
    pub(crate) async fn recv(&mut self) -> Signal {
        let received = tokio::select! {
            Some(()) = self.int.recv() => Signal::INT,
            Some(()) = self.term.recv() => Signal::TERM,
            else => std::future::pending().await,
        };
        self.count += 1;
        received
    }

    /// Whether any signal has arrived so far (taking in pending ones, without waiting).
    pub(crate) async fn arrived(&mut self) -> bool {
        let pending = tokio::select! {
            biased;
            _ = self.recv() => true,
            () = std::future::ready(()) => false,
        };
        pending || self.count > 0
    }

    /// How many signals arrived so far.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }
}

#[derive(Clone, Copy)]
enum Pipe {
    Stdout,
    Stderr,
}

/// How a streamed verb ended, when it succeeded.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// An interrupt was passed on while it ran (pulumi may still have finished normally).
    pub(crate) interrupted: bool,
}

impl Pulumi {
    /// Run `invocation`, handing each output line to `on_event` as it comes, for at most
    /// `timeout` (then the process group is killed). Interrupts caught by `interrupts` are
    /// passed on to pulumi's process group. A non-zero exit is a classified [`PulumiError`]
    /// built from pulumi's `error:` lines (stdout diagnostics and stderr).
    pub(crate) async fn stream(
        &self,
        invocation: &Invocation,
        timeout: Duration,
        mut interrupts: Option<&mut Interrupts>,
        mut on_event: impl FnMut(StreamEvent<'_>),
    ) -> Result<Streamed, PulumiError> {
        let command = self.display(invocation);
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&invocation.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for (name, value) in self.environment(invocation) {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        let mut child = cmd.spawn().map_err(|e| PulumiError::spawn(&command, &e))?;
        let group = child
            .id()
            .and_then(|id| Pid::from_raw(i32::try_from(id).ok()?));
        let deadline = tokio::time::Instant::now() + timeout;

        let (tx, mut rx) = mpsc::unbounded_channel();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, Pipe::Stdout, tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, Pipe::Stderr, tx.clone()));
        }
        drop(tx);

        let mut stderr_tail: std::collections::VecDeque<String> = Default::default();
        let mut stdout_errors: Vec<String> = Vec::new();
        let mut forwarded = 0_u32;
        // Past the deadline: interrupted (`Some(tree)`, the processes it had then), waiting
        // for it to cancel until `deadline` moves on by the grace period.
        let mut overdue: Option<Tree> = None;
        let mut deadline = deadline;
        let mut killed = false;
        let mut exited = None;
        let pid = child.id();
        loop {
            tokio::select! {
                line = rx.recv() => {
                    let Some((pipe, bytes)) = line else { break };
                    let text = String::from_utf8_lossy(&bytes);
                    let text = text.trim_end_matches(['\n', '\r']);
                    match pipe {
                        Pipe::Stdout => {
                            if text.trim_start().starts_with("error: ")
                                && stdout_errors.len() < KEPT_STDOUT_ERRORS
                            {
                                stdout_errors.push(text.trim_start().to_owned());
                            }
                            on_event(StreamEvent::Stdout(text));
                        }
                        Pipe::Stderr => {
                            if stderr_tail.len() == KEPT_STDERR_LINES {
                                stderr_tail.pop_front();
                            }
                            stderr_tail.push_back(text.to_owned());
                            on_event(StreamEvent::Stderr(text));
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    if overdue.is_some() {
                        killed = true;
                        break;
                    }
                    // As Ctrl-C would: pulumi cancels the update, releases its lock and
                    // stops its plugins; the tree is remembered for what it leaves behind.
                    overdue = Some(pid.map(Tree::of).unwrap_or_default());
                    if let Some(group) = group {
                        let _ = kill_process_group(group, Signal::INT);
                    }
                    deadline = tokio::time::Instant::now() + CANCEL_GRACE;
                }
                // Interrupted at the deadline, pulumi exited: what it left holding the pipes
                // open is killed below rather than waited for.
                status = child.wait(), if overdue.is_some() => {
                    exited = Some(status);
                    break;
                }
                sig = next_interrupt(&mut interrupts) => {
                    forwarded += 1;
                    if let Some(group) = group {
                        let _ = kill_process_group(group, sig);
                    }
                    on_event(StreamEvent::Interrupted(forwarded));
                }
            }
        }
        // Output closed: pulumi is exiting. Still bounded by the deadline (a plugin could
        // keep running without its pipes).
        let status = if killed {
            None
        } else if exited.is_some() {
            exited
        } else {
            tokio::time::timeout_at(deadline, child.wait()).await.ok()
        };
        if status.is_none() {
            // Past every deadline: pulumi and all it started, now.
            if let Some(id) = pid {
                Tree::of(id).kill();
            }
        }
        if let Some(tree) = &overdue {
            // Whatever pulumi left running after the interrupt.
            tree.kill();
        }
        let status = match status {
            Some(Ok(status)) if overdue.is_none() => status,
            Some(Ok(_)) => {
                return Err(PulumiError {
                    command,
                    failure: Failure::Timeout(timeout, Stopped::Cancelled),
                });
            }
            Some(Err(e)) => return Err(PulumiError::spawn(&command, &e)),
            None => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                let stopped = if overdue.is_some() {
                    Stopped::KilledAfter(CANCEL_GRACE)
                } else {
                    Stopped::Killed
                };
                return Err(PulumiError {
                    command,
                    failure: Failure::Timeout(timeout, stopped),
                });
            }
        };
        if !status.success() {
            let mut text = stdout_errors.join("\n");
            for line in &stderr_tail {
                text.push('\n');
                text.push_str(line);
            }
            return Err(PulumiError::exited(command, status, &text));
        }
        Ok(Streamed {
            interrupted: forwarded > 0,
        })
    }
}

/// The next interrupt, or never when none are caught.
async fn next_interrupt(interrupts: &mut Option<&mut Interrupts>) -> Signal {
    match interrupts {
        Some(i) => i.recv().await,
        None => std::future::pending().await,
    }
}

/// Send each line of `pipe` (with its line ending, if any) until it closes.
async fn pump(
    pipe: impl AsyncRead + Unpin,
    which: Pipe,
    tx: mpsc::UnboundedSender<(Pipe, Vec<u8>)>,
) {
    let mut reader = BufReader::new(pipe);
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if tx.send((which, line)).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A `Pulumi` whose "binary" is `sh -c SCRIPT`: the invocation's args become `$0 …`.
    fn sh(script: &str) -> (Pulumi, Invocation) {
        let p = Pulumi::new("sh".into(), "/".into(), Duration::from_secs(1), None);
        let inv = Invocation {
            args: vec!["-c".into(), script.into()],
            needs_secrets: false,
        };
        (p, inv)
    }

    #[test]
    fn lines_arrive_in_order_per_pipe_and_failures_carry_error_lines() {
        let (p, inv) = sh(
            "echo one; echo 'error: from stdout'; echo two >&2; printf 'no newline' >&2; exit 4",
        );
        let mut seen = Vec::new();
        let err = runtime()
            .block_on(p.stream(&inv, Duration::from_secs(10), None, |e| {
                seen.push(format!("{e:?}"));
            }))
            .unwrap_err();
        let stdout: Vec<&String> = seen.iter().filter(|l| l.starts_with("Stdout")).collect();
        assert_eq!(
            stdout,
            [r#"Stdout("one")"#, r#"Stdout("error: from stdout")"#]
        );
        assert!(
            seen.contains(&r#"Stderr("no newline")"#.to_owned()),
            "{seen:?}"
        );
        let text = err.to_string();
        assert!(text.contains("(exit status: 4)"), "{text}");
        assert!(text.contains("error: from stdout"), "{text}");
    }

    #[test]
    fn a_hanging_group_is_killed_at_the_deadline() {
        // A grandchild (as pulumi's plugins are) keeps the pipes open: the group goes too.
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let (p, inv) = sh(&format!(
            "sleep 30 & echo $! > '{}'; echo started; wait",
            pidfile.display()
        ));
        let start = std::time::Instant::now();
        let err = runtime()
            .block_on(p.stream(&inv, Duration::from_millis(500), None, |_| {}))
            .unwrap_err();
        assert!(matches!(err.failure, Failure::Timeout(..)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let stat = std::path::Path::new("/proc").join(pid.trim()).join("stat");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            // Gone, or a zombie waiting for whoever adopted it.
            let alive = std::fs::read_to_string(&stat).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| !r.trim_start().starts_with('Z'))
            });
            if !alive {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the grandchild {pid} survived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
