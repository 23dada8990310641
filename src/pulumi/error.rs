//! What went wrong when running pulumi, classified from its `error:` lines.

use std::fmt;
use std::process::ExitStatus;
use std::time::Duration;

use crate::state::passphrase;

/// A failed pulumi invocation. Its message shows the command, the exit status and pulumi's
/// `error:` lines, in cargo's `process didn't exit successfully` shape.
#[derive(Debug, thiserror::Error)]
pub(crate) struct PulumiError {
    pub(crate) command: String,
    pub(crate) failure: Failure,
}

/// How the invocation failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The binary could not be run.
    NotFound(String),
    /// Could not be started for another reason.
    Spawn(String),
    /// Exited non-zero.
    Exited {
        status: String,
        class: Class,
        errors: Vec<String>,
    },
    /// Ran past the timeout and was stopped.
    Timeout(Duration, Stopped),
    /// Succeeded but printed something stackwire cannot read.
    Garbage(String),
}

/// How a pulumi run that went past its deadline was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Killed at once, with every process it started.
    Killed,
    /// Interrupted (as Ctrl-C does), and it cancelled and exited within the grace period.
    Cancelled,
    /// Interrupted, still running after the grace period, then killed.
    KilledAfter(Duration),
}

/// What pulumi's stderr says the problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    StackNotFound,
    NoStackSelected,
    NotLoggedIn,
    PassphraseMissing,
    PassphraseWrong,
    NoProject,
    BackendUnreachable,
    Other,
}

impl Class {
    fn of(stderr: &str) -> Self {
        let has = |s: &str| stderr.contains(s);
        if has("passphrase must be set") {
            Self::PassphraseMissing
        } else if has("incorrect passphrase") {
            Self::PassphraseWrong
        } else if has("no stack named") {
            Self::StackNotFound
        } else if has("no stack selected") {
            Self::NoStackSelected
        } else if has("PULUMI_ACCESS_TOKEN must be set")
            || has("requires logging in")
            || has("pulumi login")
        {
            Self::NotLoggedIn
        } else if has("no Pulumi.yaml project file found") {
            Self::NoProject
        } else if has("performing HTTP request")
            || has("unable to open state directory")
            || has("dial tcp")
            || has("no such host")
        {
            Self::BackendUnreachable
        } else {
            Self::Other
        }
    }

    fn summary(self) -> &'static str {
        match self {
            Self::StackNotFound => "the stack does not exist",
            Self::NoStackSelected => "no stack selected",
            Self::NotLoggedIn => "not logged in to the backend",
            Self::PassphraseMissing => passphrase::MISSING,
            Self::PassphraseWrong => passphrase::WRONG,
            Self::NoProject => "no Pulumi project",
            Self::BackendUnreachable => "cannot reach the backend",
            Self::Other => "pulumi failed",
        }
    }

    fn hint(self) -> Option<&'static str> {
        match self {
            Self::StackNotFound => Some(
                "check `stack:` in the mapping file and that the backend holds it (`pulumi stack ls`)",
            ),
            Self::NoStackSelected => Some("set `stack:` in the mapping file"),
            Self::NotLoggedIn => Some(
                "set PULUMI_ACCESS_TOKEN, or PULUMI_BACKEND_URL / `backend:` for a self-managed backend",
            ),
            Self::PassphraseMissing => Some(passphrase::MISSING_HINT),
            Self::PassphraseWrong => Some(passphrase::WRONG_HINT),
            Self::NoProject => {
                Some("set `project:` in the mapping file to the folder holding Pulumi.yaml")
            }
            Self::BackendUnreachable => Some(
                "check the backend URL (`backend:` in the mapping, --backend, PULUMI_BACKEND_URL or Pulumi.yaml) and that it is reachable from here",
            ),
            Self::Other => None,
        }
    }
}

impl PulumiError {
    /// Whether pulumi refused what it was given (the stack, the project folder, the
    /// passphrase) rather than failing itself: the user's input is at fault.
    pub(crate) fn is_bad_input(&self) -> bool {
        matches!(
            self.failure,
            Failure::Exited {
                class: Class::StackNotFound
                    | Class::NoStackSelected
                    | Class::NoProject
                    | Class::PassphraseMissing
                    | Class::PassphraseWrong,
                ..
            }
        )
    }

    pub(super) fn spawn(command: &str, e: &std::io::Error) -> Self {
        let failure = if e.kind() == std::io::ErrorKind::NotFound {
            Failure::NotFound(e.to_string())
        } else {
            Failure::Spawn(e.to_string())
        };
        Self {
            command: command.to_owned(),
            failure,
        }
    }

    pub(super) fn exited(command: String, status: ExitStatus, stderr: &str) -> Self {
        let status = match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(code), _) => format!("exit status: {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => status.to_string(),
        };
        let mut errors: Vec<String> = stderr
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("error: "))
            .map(str::to_owned)
            .collect();
        if errors.is_empty() {
            // No `error:` line (a crash, a panic banner): show the tail of stderr instead.
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            errors = lines[lines.len().saturating_sub(10)..]
                .iter()
                .map(|l| (*l).to_owned())
                .collect();
        }
        Self {
            command,
            failure: Failure::Exited {
                status,
                class: Class::of(stderr),
                errors,
            },
        }
    }

    /// Build an error for output that could not be parsed.
    pub(crate) fn garbage(command: &str, what: impl Into<String>) -> Self {
        Self {
            command: command.to_owned(),
            failure: Failure::Garbage(what.into()),
        }
    }
}

impl fmt::Display for PulumiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::NotFound(e) => write!(
                f,
                "could not run `{}`: {e}\n  install pulumi, or point --pulumi / STACKWIRE_PULUMI at it, or read state without it (--state FILE, or a file:// backend)",
                self.command
            ),
            Failure::Spawn(e) => write!(f, "could not run `{}`: {e}", self.command),
            Failure::Timeout(t, stopped) => {
                let how = match stopped {
                    Stopped::Killed => "was killed".to_owned(),
                    Stopped::Cancelled => "was interrupted; pulumi cancelled and exited".to_owned(),
                    Stopped::KilledAfter(grace) => format!(
                        "was interrupted, did not stop within {} s and was killed",
                        grace.as_secs()
                    ),
                };
                write!(
                    f,
                    "`{}` did not finish within {} s and {how} (set STACKWIRE_PULUMI_TIMEOUT to allow longer)",
                    self.command,
                    t.as_secs()
                )
            }
            Failure::Garbage(what) => write!(
                f,
                "`{}` printed output stackwire cannot read: {what}",
                self.command
            ),
            Failure::Exited {
                status,
                class,
                errors,
            } => {
                write!(
                    f,
                    "{}: process didn't exit successfully: `{}` ({status})",
                    class.summary(),
                    self.command
                )?;
                for line in errors {
                    write!(f, "\n  error: {line}")?;
                }
                if let Some(hint) = class.hint() {
                    write!(f, "\n  hint: {hint}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_from_real_messages() {
        let cases = [
            ("error: no stack named 'dev' found", Class::StackNotFound),
            (
                "error: no stack selected; please use `pulumi stack select` to choose one",
                Class::NoStackSelected,
            ),
            (
                "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
                Class::NotLoggedIn,
            ),
            (
                "error: constructing secrets manager of type \"passphrase\": constructing secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
                Class::PassphraseMissing,
            ),
            (
                "error: failed to decrypt: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE",
                Class::PassphraseWrong,
            ),
            (
                "error: no Pulumi.yaml project file found (searching upwards from /x).",
                Class::NoProject,
            ),
            (
                "error: performing HTTP request: Get \"http://127.0.0.1:9/api/user\": dial tcp 127.0.0.1:9: connect: connection refused",
                Class::BackendUnreachable,
            ),
            ("error: something else", Class::Other),
        ];
        for (stderr, class) in cases {
            assert_eq!(Class::of(stderr), class, "{stderr}");
        }
    }
}
