//! Running one pulumi process: start it in its own process group, capture stdout and stderr,
//! wait under a deadline, and kill it with every process it started when the deadline passes.

use std::os::unix::process::CommandExt as _;
use std::time::{Duration, Instant};

use super::error::{Failure, PulumiError, Stopped};
use super::tree::Tree;

/// A started pulumi process.
pub(crate) struct Running {
    handle: duct::Handle,
    command: String,
    timeout: Duration,
    deadline: Instant,
}

pub(super) fn start(
    expr: &duct::Expression,
    command: String,
    timeout: Duration,
) -> Result<Running, PulumiError> {
    let handle = expr
        .before_spawn(|cmd| {
            cmd.process_group(0);
            Ok(())
        })
        .start()
        .map_err(|e| PulumiError::spawn(&command, &e))?;
    Ok(Running {
        handle,
        command,
        timeout,
        deadline: Instant::now() + timeout,
    })
}

impl Running {
    /// Wait for the process; its stdout on success, else a classified error.
    pub(crate) fn finish(self) -> Result<String, PulumiError> {
        match self.handle.wait_deadline(self.deadline) {
            Ok(Some(_)) => {}
            Ok(None) => {
                // A read changes nothing: pulumi and everything it started go at once.
                for pid in self.handle.pids() {
                    Tree::of(pid).kill();
                }
                let _ = self.handle.kill();
                return Err(PulumiError {
                    command: self.command,
                    failure: Failure::Timeout(self.timeout, Stopped::Killed),
                });
            }
            Err(e) => return Err(PulumiError::spawn(&self.command, &e)),
        }
        // The process has exited: take its output without copying (a 60 MB export stays one copy).
        let output = self
            .handle
            .into_output()
            .map_err(|e| PulumiError::spawn(&self.command, &e))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(PulumiError::exited(self.command, output.status, &stderr));
        }
        String::from_utf8(output.stdout).map_err(|_| PulumiError {
            command: self.command,
            failure: Failure::Garbage("its output is not UTF-8".into()),
        })
    }

    /// The command line, for messages.
    pub(crate) fn command(&self) -> &str {
        &self.command
    }
}
