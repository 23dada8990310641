//! The one chokepoint that runs the `pulumi` binary.
//!
//! A [`Pulumi`] holds the resolved binary, project folder and timeout, and exposes typed verbs.
//! Every invocation gets `--non-interactive --color never -C <project>`, an explicit `--stack`,
//! `PULUMI_SKIP_UPDATE_CHECK=true`, and an environment scrubbed of variables that silently
//! change pulumi's behaviour. Failures become [`PulumiError`]s that show the command line,
//! the exit status and pulumi's `error:` lines, classified. Read verbs run captured
//! (`process.rs`); the deploy verbs `up`/`preview` (`up.rs`) run streamed (`stream.rs`), with
//! the same environment, process-group kill at the deadline and error classification.

mod error;
mod process;
mod stream;
mod tree;
mod up;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use error::PulumiError;
pub(crate) use process::Running;
pub(crate) use stream::{Interrupts, StreamEvent};
pub(crate) use up::{UP_TIMEOUT, redirecting_arg};

/// Default bound for read verbs (`stack export`, `config`), overridden by `STACKWIRE_PULUMI_TIMEOUT`.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Variables removed from pulumi's environment: they silently change flags, the stack or output.
const SCRUBBED: &[&str] = &[
    "PULUMI_STACK",
    "PULUMI_SKIP_CONFIRMATIONS",
    "PULUMI_ENABLE_STREAMING_JSON_PREVIEW",
    "PULUMI_TEST_PASSPHRASE",
];
/// Prefix of the flag-setting variables (`PULUMI_OPTION_REFRESH`, …), all removed.
const SCRUBBED_PREFIX: &str = "PULUMI_OPTION_";
/// Passed only to invocations that need to decrypt.
const PASSPHRASE_VARS: &[&str] = &["PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"];

/// A resolved pulumi binary for one project folder.
#[derive(Clone, Debug)]
pub(crate) struct Pulumi {
    /// A bare name (looked up on PATH) or an absolute path.
    program: OsString,
    project_dir: PathBuf,
    timeout: Duration,
    /// Backend URL to force (`PULUMI_BACKEND_URL`), when the mapping or `--backend` gives one.
    backend: Option<String>,
}

/// One invocation, before it starts.
#[derive(Debug)]
pub(crate) struct Invocation {
    args: Vec<OsString>,
    needs_secrets: bool,
}

impl Pulumi {
    pub(crate) fn new(
        program: OsString,
        project_dir: PathBuf,
        timeout: Duration,
        backend: Option<String>,
    ) -> Self {
        Self {
            program,
            project_dir,
            timeout,
            backend,
        }
    }

    fn invocation(&self, verb: &[&str], stack: Option<&str>, needs_secrets: bool) -> Invocation {
        let mut args: Vec<OsString> = vec![
            "--non-interactive".into(),
            "--color".into(),
            "never".into(),
            "-C".into(),
            self.project_dir.clone().into(),
        ];
        args.extend(verb.iter().map(OsString::from));
        if let Some(stack) = stack {
            args.push("--stack".into());
            args.push(stack.into());
        }
        if needs_secrets {
            args.push("--show-secrets".into());
        }
        Invocation {
            args,
            needs_secrets,
        }
    }

    /// `pulumi stack export [--show-secrets]`: the stack's whole state, with secret markers.
    pub(crate) fn stack_export(&self, stack: &str, show_secrets: bool) -> Invocation {
        self.invocation(&["stack", "export"], Some(stack), show_secrets)
    }

    /// `pulumi config --json [--show-secrets]`: the stack's config.
    pub(crate) fn config(&self, stack: &str, show_secrets: bool) -> Invocation {
        self.invocation(&["config", "--json"], Some(stack), show_secrets)
    }

    /// `pulumi stack ls --json`: the project's stacks.
    pub(crate) fn stack_ls(&self) -> Invocation {
        self.invocation(&["stack", "ls", "--json"], None, false)
    }

    /// Start `invocation` with captured output; [`Running::finish`] waits under the timeout.
    pub(crate) fn start(&self, invocation: &Invocation) -> Result<Running, PulumiError> {
        let mut expr = duct::cmd(&self.program, &invocation.args)
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked();
        for (name, value) in self.environment(invocation) {
            expr = match value {
                Some(value) => expr.env(name, value),
                None => expr.env_remove(name),
            };
        }
        process::start(&expr, self.display(invocation), self.timeout)
    }

    /// How the child's environment differs from stackwire's: `Some` sets, `None` removes.
    /// Shared by the captured ([`Pulumi::start`]) and the streaming runner.
    fn environment(&self, invocation: &Invocation) -> Vec<(String, Option<OsString>)> {
        let mut changes: Vec<(String, Option<OsString>)> = vec![
            ("PULUMI_SKIP_UPDATE_CHECK".into(), Some("true".into())),
            ("NO_COLOR".into(), Some("1".into())),
        ];
        for (name, _) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            let passphrase = PASSPHRASE_VARS.contains(&name) && !invocation.needs_secrets;
            if passphrase || SCRUBBED.contains(&name) || name.starts_with(SCRUBBED_PREFIX) {
                changes.push((name.to_owned(), None));
            }
        }
        if let Some(url) = &self.backend {
            changes.push(("PULUMI_BACKEND_URL".into(), Some(url.into())));
        }
        changes
    }

    /// The backend URL stackwire hands pulumi (`PULUMI_BACKEND_URL`), when it chose one.
    pub(crate) fn backend_url(&self) -> Option<&str> {
        self.backend.as_deref()
    }

    /// The command line as the user could paste it (no secrets are ever in argv).
    pub(crate) fn display(&self, invocation: &Invocation) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(invocation.args.iter().map(OsString::as_os_str))
            .map(|a| crate::shellwords::quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
