//! Running kubectl for `adopt --kubectl`, with the care `pulumi/` takes: argv only (no shell),
//! stdin closed, stderr captured, the child in its own process group, a deadline after which
//! the whole group is killed, and errors that show the command, the exit status and stderr.
//!
//! `kubectl get` output is streamed to the caller's reader as it arrives, so a large cluster is
//! never held in memory whole.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::process::CommandExt as _;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// Default deadline for one kubectl run (`STACKWIRE_KUBECTL_TIMEOUT` overrides).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(300);

/// Resource types never read: ephemeral (Events) or not stored (metrics).
fn skipped(resource: &str) -> bool {
    resource == "events"
        || resource == "events.events.k8s.io"
        || resource == "componentstatuses"
        || resource.ends_with(".metrics.k8s.io")
}

/// A resolved kubectl.
#[derive(Clone, Debug)]
pub(crate) struct Kubectl {
    program: OsString,
    context: Option<String>,
    namespace: Option<String>,
    timeout: Duration,
}

/// A failed kubectl run.
#[derive(Debug, thiserror::Error)]
pub(crate) struct KubectlError {
    pub(crate) command: String,
    failure: Failure,
}

#[derive(Debug)]
enum Failure {
    NotFound(String),
    Spawn(String),
    Exited { status: String, stderr: Vec<String> },
    Timeout(Duration),
    Garbage(String),
}

impl std::fmt::Display for KubectlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.failure {
            Failure::NotFound(e) => write!(
                f,
                "could not run `{}`: {e}\n  install kubectl (or set STACKWIRE_KUBECTL), or give a dump with --cluster FILE",
                self.command
            ),
            Failure::Spawn(e) => write!(f, "could not run `{}`: {e}", self.command),
            Failure::Timeout(t) => write!(
                f,
                "`{}` did not finish within {} s and was killed (set STACKWIRE_KUBECTL_TIMEOUT to allow longer)",
                self.command,
                t.as_secs()
            ),
            Failure::Garbage(what) => {
                write!(
                    f,
                    "`{}` printed output stackwire cannot read: {what}",
                    self.command
                )
            }
            Failure::Exited { status, stderr } => {
                write!(
                    f,
                    "kubectl failed: process didn't exit successfully: `{}` ({status})",
                    self.command
                )?;
                for line in stderr {
                    write!(f, "\n  {line}")?;
                }
                Ok(())
            }
        }
    }
}

fn status_text(status: std::process::ExitStatus) -> String {
    match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => format!("exit status: {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => status.to_string(),
    }
}

fn stderr_tail(stderr: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(10)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

fn kill_group(pids: &[u32]) {
    for &pid in pids {
        if let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Kubectl {
    pub(crate) fn new(
        program: OsString,
        context: Option<String>,
        namespace: Option<String>,
        timeout: Duration,
    ) -> Self {
        Self {
            program,
            context,
            namespace,
            timeout,
        }
    }

    fn args(&self, verb: &[&str]) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(c) = &self.context {
            args.push("--context".to_owned());
            args.push(c.clone());
        }
        args.extend(verb.iter().map(|s| (*s).to_owned()));
        args
    }

    fn display(&self, args: &[String]) -> String {
        std::iter::once(self.program.to_string_lossy().into_owned())
            .chain(args.iter().cloned())
            .map(|a| crate::shellwords::quote(&a))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn expression(&self, args: &[String]) -> duct::Expression {
        duct::cmd(&self.program, args)
            .stdin_null()
            .stderr_capture()
            .unchecked()
            .before_spawn(|cmd| {
                cmd.process_group(0);
                Ok(())
            })
    }

    fn spawn_error(command: &str, e: &io::Error) -> KubectlError {
        KubectlError {
            command: command.to_owned(),
            failure: if e.kind() == io::ErrorKind::NotFound {
                Failure::NotFound(e.to_string())
            } else {
                Failure::Spawn(e.to_string())
            },
        }
    }

    /// `kubectl api-resources --verbs=list -o name`: the resource types to read (namespaced
    /// ones only with a namespace), minus Events and metrics.
    pub(crate) fn resource_types(&self) -> Result<Vec<String>, KubectlError> {
        let mut verb = vec!["api-resources", "--verbs=list", "-o", "name"];
        if self.namespace.is_some() {
            verb.push("--namespaced=true");
        }
        let args = self.args(&verb);
        let command = self.display(&args);
        let handle = self
            .expression(&args)
            .stdout_capture()
            .start()
            .map_err(|e| Self::spawn_error(&command, &e))?;
        let output = match handle.wait_deadline(Instant::now() + self.timeout) {
            Ok(Some(output)) => output.clone(),
            Ok(None) => {
                kill_group(&handle.pids());
                let _ = handle.kill();
                return Err(KubectlError {
                    command,
                    failure: Failure::Timeout(self.timeout),
                });
            }
            Err(e) => return Err(Self::spawn_error(&command, &e)),
        };
        if !output.status.success() {
            return Err(KubectlError {
                command,
                failure: Failure::Exited {
                    status: status_text(output.status),
                    stderr: stderr_tail(&output.stderr),
                },
            });
        }
        let text = String::from_utf8(output.stdout).map_err(|_| KubectlError {
            command: command.clone(),
            failure: Failure::Garbage("its output is not UTF-8".into()),
        })?;
        let types: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !skipped(l))
            .map(str::to_owned)
            .collect();
        if types.is_empty() {
            return Err(KubectlError {
                command,
                failure: Failure::Garbage("no listable resource types".into()),
            });
        }
        Ok(types)
    }

    /// The `kubectl get` command line for `types`.
    pub(crate) fn get_command(&self, types: &[String]) -> String {
        self.display(&self.get_args(types))
    }

    fn get_args(&self, types: &[String]) -> Vec<String> {
        let joined = types.join(",");
        let mut verb = vec![
            "get",
            joined.as_str(),
            "-o",
            "json",
            "--show-managed-fields",
        ];
        let ns;
        match &self.namespace {
            Some(n) => {
                ns = n.clone();
                verb.push("-n");
                verb.push(&ns);
            }
            None => verb.push("--all-namespaces"),
        }
        self.args(&verb)
    }

    /// Run `kubectl get <types> -o json` and hand its stdout, as it streams, to `read`. A
    /// kubectl failure wins over what `read` made of partial output.
    pub(crate) fn get<T, E>(
        &self,
        types: &[String],
        read: impl FnOnce(&mut dyn Read, &str) -> Result<T, E>,
    ) -> Result<Result<T, E>, KubectlError> {
        let args = self.get_args(types);
        let command = self.display(&args);
        let reader = Arc::new(
            self.expression(&args)
                .reader()
                .map_err(|e| Self::spawn_error(&command, &e))?,
        );
        let (done, finished) = mpsc::channel::<()>();
        let watchdog = {
            let reader = Arc::clone(&reader);
            let timeout = self.timeout;
            std::thread::spawn(move || {
                if finished.recv_timeout(timeout) == Err(mpsc::RecvTimeoutError::Timeout) {
                    kill_group(&reader.pids());
                    let _ = reader.kill();
                    true
                } else {
                    false
                }
            })
        };
        let mut stream: &duct::ReaderHandle = &reader;
        let result = read(&mut stream, &command);
        // Stop a child whose output was not read to the end, then reap it.
        let stopped = reader.try_wait().ok().flatten().is_none();
        if stopped {
            kill_group(&reader.pids());
            let _ = reader.kill();
        }
        let _ = io::copy(&mut stream, &mut io::sink());
        let _ = done.send(());
        let timed_out = watchdog.join().unwrap_or(false);
        if timed_out {
            return Err(KubectlError {
                command,
                failure: Failure::Timeout(self.timeout),
            });
        }
        match reader.try_wait() {
            Ok(Some(output)) if !stopped && !output.status.success() => Err(KubectlError {
                command,
                failure: Failure::Exited {
                    status: status_text(output.status),
                    stderr: stderr_tail(&output.stderr),
                },
            }),
            Ok(_) => Ok(result),
            Err(e) => Err(Self::spawn_error(&command, &e)),
        }
    }
}
