//! Health checks: HTTP, TCP and command probes run concurrently with timeouts and retries (issue 5).
//!
//! [`prepare`] renders each check's templates twice over the mapped variables: once with the
//! real values (what is probed) and once with every secret reading `[secret]` (what is shown).
//! [`run`] then runs all checks at once on the caller's tokio runtime, each attempt bounded by
//! the check's timeout, retrying with a doubling wait, and returns a [`Report`]. Nothing here
//! prints; results and per-attempt events are masked before they leave this module.

pub(crate) mod mask;
mod probe;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::mapping::HealthCheck;
use crate::mapping::health::Probe;
use crate::template;
use crate::vars::{SECRET_MASK, Var};
pub(crate) use mask::Masker;
pub(crate) use probe::human;
use probe::{Action, Env};

/// The wait between retries doubles up to this (or the check's own interval, if longer).
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What a health check could not do before running.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HealthError {
    /// A template of a check does not parse.
    #[error("{}:{line}: health check `{name}`: invalid template: {message}", file.display())]
    Template {
        file: PathBuf,
        line: u64,
        name: String,
        message: String,
    },
    /// `--only` names a check the mapping does not have.
    #[error("no health check named `{name}` in {}; its checks: {available}", file.display())]
    Unknown {
        file: PathBuf,
        name: String,
        available: String,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Which kind of probe a check is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Http,
    Tcp,
    Command,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Tcp => "tcp",
            Self::Command => "command",
        }
    }
}

/// A check with its templates rendered.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// The target as shown (secrets masked).
    pub(crate) target: String,
    /// What to probe, or why the target could not be rendered.
    action: Result<Action, String>,
    timeout: Duration,
    retries: u32,
    interval: Duration,
}

/// One attempt of one check, as it happens (for `-v`).
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) check: String,
    pub(crate) attempt: u32,
    pub(crate) of: u32,
    /// What was found, or why it failed (masked).
    pub(crate) outcome: Result<String, String>,
    pub(crate) latency: Duration,
    /// The wait before the next attempt, when there is one.
    pub(crate) retry_in: Option<Duration>,
}

/// The result of one check.
#[derive(Clone, Debug)]
pub(crate) struct CheckResult {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) target: String,
    pub(crate) healthy: bool,
    /// What the last attempt found (`200 OK`, `connected`, `exit status 0`) or why it
    /// failed (masked).
    pub(crate) result: String,
    pub(crate) attempts: u32,
    pub(crate) max_attempts: u32,
    /// Duration of the last attempt; none when nothing could be attempted.
    pub(crate) latency: Option<Duration>,
    /// Time taken by all attempts and the waits between them.
    pub(crate) elapsed: Duration,
}

/// The results of a run, in the order of the checks.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) checks: Vec<CheckResult>,
    /// Wall-clock time of the whole run (the checks overlap).
    pub(crate) elapsed: Duration,
}

impl Report {
    pub(crate) fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.healthy)
    }

    /// Names of the unhealthy checks.
    pub(crate) fn unhealthy(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.healthy)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// The checks named in `only` (all of them when empty), in mapping order.
pub(crate) fn select<'a>(
    checks: &'a [HealthCheck],
    only: &[String],
    file: &Path,
) -> Result<Vec<&'a HealthCheck>, HealthError> {
    if let Some(name) = only.iter().find(|n| !checks.iter().any(|c| &c.name == *n)) {
        return Err(HealthError::Unknown {
            file: file.to_owned(),
            name: name.clone(),
            available: if checks.is_empty() {
                "none".into()
            } else {
                checks
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
    }
    Ok(checks
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
        .collect())
}

/// Parse every template of `checks`, so that a syntax error is found before anything runs
/// (undefined variables are already rejected with the mapping).
pub(crate) fn check_templates(checks: &[HealthCheck], file: &Path) -> Result<(), HealthError> {
    for check in checks {
        for text in check.probe.templates() {
            let mut tera = template::engine();
            tera.add_raw_template("health", text)
                .map_err(|e| HealthError::Template {
                    file: file.to_owned(),
                    line: check.line,
                    name: check.name.clone(),
                    message: template::from_tera(e).message,
                })?;
        }
    }
    Ok(())
}

/// Render the checks over `vars`: the real targets to probe and the masked ones to show.
pub(crate) fn prepare(checks: &[&HealthCheck], vars: &[Var]) -> Vec<Prepared> {
    let real = context(vars, false);
    let shown = context(vars, true);
    let render = |text: &str| -> Result<(String, String), String> {
        let value = template::render_str(text, &real).map_err(|e| match e.missing {
            Some(var) => format!(
                "cannot render the target: `{var}` has no value (mapped with `required: false`, and absent)"
            ),
            None => format!("cannot render the target: {}", e.message),
        })?;
        let display = template::render_str(text, &shown)
            .map_err(|e| format!("cannot render the target: {}", e.message))?;
        Ok((value, display))
    };
    checks
        .iter()
        .map(|check| {
            let (kind, rendered) = match &check.probe {
                Probe::Http {
                    url,
                    expect,
                    contains,
                } => (
                    Kind::Http,
                    render(url).map(|(url, shown)| {
                        let action = Action::Http {
                            url,
                            expect: expect.clone(),
                            contains: contains.clone(),
                        };
                        (action, mask::mask_userinfo(&shown))
                    }),
                ),
                Probe::Tcp { address } => (
                    Kind::Tcp,
                    render(address).map(|(address, shown)| (Action::Tcp { address }, shown)),
                ),
                Probe::Command { argv } => (
                    Kind::Command,
                    argv.iter()
                        .map(|a| render(a))
                        .collect::<Result<Vec<_>, _>>()
                        .map(|parts| {
                            let shown = parts
                                .iter()
                                .map(|(_, s)| shell_word(s))
                                .collect::<Vec<_>>()
                                .join(" ");
                            let argv = parts.into_iter().map(|(v, _)| v).collect();
                            (Action::Command { argv }, shown)
                        }),
                ),
            };
            let (action, target) = match rendered {
                Ok((action, shown)) => (Ok(action), shown),
                Err(message) => (Err(message), check.probe.templates().join(" ")),
            };
            Prepared {
                name: check.name.clone(),
                kind,
                target,
                action,
                timeout: check.timeout,
                retries: check.retries,
                interval: check.interval,
            }
        })
        .collect()
}

/// The tera context of targets: `env` → name → value (`[secret]` for secrets when `masked`).
fn context(vars: &[Var], masked: bool) -> tera::Context {
    let env: serde_json::Map<String, serde_json::Value> = vars
        .iter()
        .map(|v| {
            let value = if masked && v.secret {
                SECRET_MASK.to_owned()
            } else {
                v.value.clone().unwrap_or_default()
            };
            (v.name.clone(), serde_json::Value::String(value))
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("env", &env);
    context
}

/// What every check of a run shares.
struct Shared {
    client: Option<reqwest::Client>,
    root: PathBuf,
    vars: Vec<(String, String)>,
    masker: Masker,
}

/// Run `checks` concurrently (on the current tokio runtime). Commands run in `root` with
/// `vars` added to their environment. `on_attempt` sees each attempt as it ends.
pub(crate) async fn run(
    checks: Vec<Prepared>,
    vars: &[Var],
    root: &Path,
    mut on_attempt: impl FnMut(&Attempt),
) -> Result<Report, HealthError> {
    let start = Instant::now();
    let needs_client = checks
        .iter()
        .any(|c| matches!(c.action, Ok(Action::Http { .. })));
    let client = if needs_client {
        Some(probe::http_client().map_err(HealthError::Client)?)
    } else {
        None
    };
    let shared = Arc::new(Shared {
        client,
        root: root.to_owned(),
        vars: vars
            .iter()
            .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
            .collect(),
        masker: Masker::new(vars),
    });
    let count = checks.len();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut set = JoinSet::new();
    for (index, check) in checks.into_iter().enumerate() {
        let shared = Arc::clone(&shared);
        let tx = tx.clone();
        set.spawn(async move { (index, run_one(check, &shared, &tx).await) });
    }
    drop(tx);
    let mut results: Vec<Option<CheckResult>> = vec![None; count];
    loop {
        tokio::select! {
            Some(attempt) = rx.recv() => on_attempt(&attempt),
            joined = set.join_next() => match joined {
                Some(Ok((index, result))) => results[index] = Some(result),
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(Err(_)) => {}
                None => break,
            },
        }
    }
    while let Ok(attempt) = rx.try_recv() {
        on_attempt(&attempt);
    }
    Ok(Report {
        checks: results.into_iter().flatten().collect(),
        elapsed: start.elapsed(),
    })
}

async fn run_one(
    check: Prepared,
    shared: &Shared,
    events: &mpsc::UnboundedSender<Attempt>,
) -> CheckResult {
    let start = Instant::now();
    let max_attempts = check.retries.saturating_add(1);
    let mut result = CheckResult {
        name: check.name.clone(),
        kind: check.kind,
        target: check.target.clone(),
        healthy: false,
        result: String::new(),
        attempts: 0,
        max_attempts,
        latency: None,
        elapsed: Duration::ZERO,
    };
    let action = match &check.action {
        Ok(action) => action,
        Err(message) => {
            result.result = shared.masker.mask(message);
            return result;
        }
    };
    let env = Env {
        client: shared.client.as_ref(),
        root: &shared.root,
        vars: &shared.vars,
    };
    let mut wait = check.interval;
    loop {
        result.attempts += 1;
        let began = Instant::now();
        let outcome = probe::attempt(action, check.timeout, &env).await;
        let latency = began.elapsed();
        let outcome = match outcome {
            Ok(found) => Ok(shared.masker.mask(&found)),
            Err(why) => Err(shared.masker.mask(&why)),
        };
        let last = outcome.is_ok() || result.attempts >= max_attempts;
        let _ = events.send(Attempt {
            check: check.name.clone(),
            attempt: result.attempts,
            of: max_attempts,
            outcome: outcome.clone(),
            latency,
            retry_in: (!last).then_some(wait),
        });
        result.latency = Some(latency);
        if last {
            result.healthy = outcome.is_ok();
            result.result = outcome.unwrap_or_else(|why| why);
            result.elapsed = start.elapsed();
            return result;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_BACKOFF.max(check.interval));
    }
}

/// `word` as a shell would need it quoted, for showing a command line.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,[]".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::health::Expect;

    fn var(name: &str, value: &str, secret: bool) -> Var {
        Var {
            name: name.into(),
            value: Some(value.into()),
            secret,
        }
    }

    fn check(name: &str, probe: Probe) -> HealthCheck {
        HealthCheck {
            name: name.into(),
            probe,
            timeout: Duration::from_millis(500),
            retries: 1,
            interval: Duration::from_millis(10),
            line: 3,
        }
    }

    #[test]
    fn targets_are_rendered_real_and_masked() {
        let vars = [
            var("HOST", "127.0.0.1", false),
            var("TOKEN", "tok-123", true),
        ];
        let checks = [
            check(
                "api",
                Probe::Http {
                    url: "http://{{ env.HOST }}/h?t={{ env.TOKEN }}".into(),
                    expect: Expect::Class(2),
                    contains: None,
                },
            ),
            check(
                "cmd",
                Probe::Command {
                    argv: vec!["./x.sh".into(), "--token={{ env.TOKEN }}".into()],
                },
            ),
            check(
                "bad",
                Probe::Tcp {
                    address: "{{ env.MISSING }}:1".into(),
                },
            ),
        ];
        let prepared = prepare(&checks.iter().collect::<Vec<_>>(), &vars);
        assert_eq!(prepared[0].target, "http://127.0.0.1/h?t=[secret]");
        match &prepared[0].action {
            Ok(Action::Http { url, .. }) => assert_eq!(url, "http://127.0.0.1/h?t=tok-123"),
            other => panic!("{other:?}"),
        }
        assert_eq!(prepared[1].target, "./x.sh --token=[secret]");
        let err = prepared[2].action.as_ref().unwrap_err();
        assert!(err.contains("env.MISSING"), "{err}");
    }

    #[test]
    fn template_syntax_and_unknown_names_are_errors() {
        let checks = [check(
            "api",
            Probe::Tcp {
                address: "{{ env.HOST ".into(),
            },
        )];
        let err = check_templates(&checks, Path::new("stacks/dev.yaml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("stacks/dev.yaml:3: health check `api`: invalid template"),
            "{err}"
        );
        let err = select(&checks, &["nope".into()], Path::new("s.yaml")).unwrap_err();
        assert!(err.to_string().contains("its checks: api"), "{err}");
        assert_eq!(select(&checks, &[], Path::new("s.yaml")).unwrap().len(), 1);
    }

    #[test]
    fn checks_run_concurrently_and_retry_with_masked_results() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let vars = [var("TOKEN", "tok-123", true)];
        let sleepy = |name: &str| HealthCheck {
            timeout: Duration::from_secs(5),
            ..check(
                name,
                Probe::Command {
                    argv: vec!["sh".into(), "-c".into(), "sleep 0.5".into()],
                },
            )
        };
        let failing = HealthCheck {
            retries: 2,
            ..check(
                "fails",
                Probe::Command {
                    argv: vec![
                        "sh".into(),
                        "-c".into(),
                        "echo \"no $TOKEN\" >&2; exit 3".into(),
                    ],
                },
            )
        };
        let checks = [sleepy("a"), sleepy("b"), sleepy("c"), sleepy("d"), failing];
        let prepared = prepare(&checks.iter().collect::<Vec<_>>(), &vars);
        let mut attempts = Vec::new();
        let report = rt
            .block_on(run(prepared, &vars, Path::new("/"), |a| {
                attempts.push(a.clone());
            }))
            .unwrap();
        // Four checks of 0.5 s each: together well under their 2 s sum.
        assert!(report.elapsed < Duration::from_millis(1500), "{report:?}");
        assert_eq!(report.unhealthy(), ["fails"]);
        let fails = &report.checks[4];
        assert_eq!((fails.attempts, fails.max_attempts), (3, 3));
        assert_eq!(fails.result, "exit status 3: no [secret]");
        let retries: Vec<Option<Duration>> = attempts
            .iter()
            .filter(|a| a.check == "fails")
            .map(|a| a.retry_in)
            .collect();
        assert_eq!(
            retries,
            [
                Some(Duration::from_millis(10)),
                Some(Duration::from_millis(20)),
                None
            ]
        );
    }
}
