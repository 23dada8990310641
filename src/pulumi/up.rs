//! The deploy verbs, `pulumi up` and `pulumi preview` (issue 5).
//!
//! Unlike the read verbs they are streamed (`stream.rs`), get the passphrase (they decrypt the
//! stack's config and state) but never `--show-secrets`, and end with the user's own arguments,
//! unchanged. The stack and project folder come from the mapping only: extra arguments that
//! would point pulumi elsewhere are refused, since stackwire reads that stack's outputs next.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use super::{Invocation, Pulumi};

/// Default bound for `up` and `preview`, overridden by `STACKWIRE_PULUMI_TIMEOUT`.
pub(crate) const UP_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

/// Long flags of `up`/`preview` (and global ones) that take the next argument as their value.
const VALUE_FLAGS: &[&str] = &[
    "--message",
    "-m",
    "--config",
    "-c",
    "--config-file",
    "--target",
    "-t",
    "--exclude",
    "-x",
    "--replace",
    "--target-replace",
    "--parallel",
    "-p",
    "--policy-pack",
    "--policy-pack-config",
    "--import-file",
    "--save-plan",
    "--plan",
    "--secrets-provider",
    "--tracing",
    "--verbose",
    "-v",
];

impl Pulumi {
    /// `pulumi up --yes --skip-preview --stack <stack> <extra…>`.
    pub(crate) fn up(&self, stack: &str, extra: &[OsString]) -> Invocation {
        self.deploy_verb(&["up", "--yes", "--skip-preview"], stack, extra)
    }

    /// `pulumi preview --stack <stack> <extra…>`.
    pub(crate) fn preview(&self, stack: &str, extra: &[OsString]) -> Invocation {
        self.deploy_verb(&["preview"], stack, extra)
    }

    fn deploy_verb(&self, verb: &[&str], stack: &str, extra: &[OsString]) -> Invocation {
        // The passphrase without `--show-secrets`: pulumi decrypts, its display stays masked.
        let mut invocation = self.invocation(verb, Some(stack), false);
        invocation.needs_secrets = true;
        invocation.args.extend(extra.iter().cloned());
        invocation
    }
}

/// The first extra argument that would change the stack or the project folder
/// (`--stack`, `-s`, `--cwd`, `-C`, in any of pflag's spellings), if any.
pub(crate) fn redirecting_arg(extra: &[OsString]) -> Option<String> {
    let mut takes_value = false;
    for arg in extra {
        let text = arg.to_string_lossy();
        if std::mem::take(&mut takes_value) {
            continue;
        }
        if arg.as_os_str() == OsStr::new("--") {
            return None;
        }
        let bad = match text.strip_prefix("--") {
            Some(long) => {
                let name = long.split('=').next().unwrap_or_default();
                name == "stack" || name == "cwd"
            }
            None => text.starts_with('-') && matches!(text.chars().nth(1), Some('s' | 'C')),
        };
        if bad {
            return Some(text.into_owned());
        }
        takes_value = VALUE_FLAGS.contains(&text.as_ref());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn redirecting_arguments_are_found() {
        for bad in [
            &["--stack", "prod"][..],
            &["--stack=prod"],
            &["-s", "prod"],
            &["-sprod"],
            &["--refresh", "--cwd", "/elsewhere"],
            &["-C", "x"],
            &["--cwd=x"],
        ] {
            assert!(redirecting_arg(&args(bad)).is_some(), "{bad:?}");
        }
        for good in [
            &[
                "--refresh",
                "-p",
                "4",
                "--message",
                "-s is fine as a message",
            ][..],
            &["--suppress-outputs", "--skip-preview", "-y"],
            &["-m", "--stack"],
            &["--target", "urn:pulumi:dev::app::x", "--", "--stack"],
            &[],
        ] {
            assert_eq!(redirecting_arg(&args(good)), None, "{good:?}");
        }
    }

    #[test]
    fn verbs_keep_extra_arguments_last_and_unchanged() {
        let p = Pulumi::new(
            "pulumi".into(),
            "/repo/infra".into(),
            Duration::from_secs(1),
            None,
        );
        let extra = args(&["--refresh", "--message", "it's \"quoted\""]);
        let up = p.up("dev", &extra);
        assert!(up.needs_secrets, "up decrypts");
        let tail: Vec<&OsString> = up.args.iter().rev().take(3).rev().collect();
        assert_eq!(tail, extra.iter().collect::<Vec<_>>());
        assert!(!up.args.iter().any(|a| a == "--show-secrets"));
        let shown = p.display(&up);
        assert!(
            shown.contains(" up --yes --skip-preview --stack dev --refresh"),
            "{shown}"
        );
        let preview = p.preview("dev", &[]);
        assert!(p.display(&preview).ends_with(" preview --stack dev"));
    }
}
