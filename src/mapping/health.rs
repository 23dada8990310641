//! The mapping's `health:` list: checks that `stackwire health` and `deploy` run (issue 5).
//!
//! Targets are tera templates over `env` (the mapped variables). A check that reads a
//! variable the mapping does not define is rejected here, before anything runs.

use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::template;

/// Default per-attempt timeout.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of retries after the first attempt.
pub(crate) const DEFAULT_RETRIES: u32 = 3;
/// Default wait before the first retry (doubled after each).
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// One health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HealthCheck {
    pub(crate) name: String,
    pub(crate) probe: Probe,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) interval: Duration,
    pub(crate) line: u64,
}

/// What a check probes. Strings are tera templates over `env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    Http {
        url: String,
        expect: Expect,
        contains: Option<String>,
    },
    Tcp {
        address: String,
    },
    /// Run with the mapped variables added to the environment; exit 0 = healthy.
    Command {
        argv: Vec<String>,
    },
}

/// Accepted HTTP statuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Any of these codes.
    Codes(Vec<u16>),
    /// A class: `2` for `2xx`.
    Class(u16),
}

impl Expect {
    pub(crate) fn accepts(&self, status: u16) -> bool {
        match self {
            Self::Codes(codes) => codes.contains(&status),
            Self::Class(c) => status / 100 == *c,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Codes(codes) => codes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            Self::Class(c) => format!("{c}xx"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    name: String,
    #[serde(default)]
    http: Option<String>,
    #[serde(default)]
    tcp: Option<String>,
    #[serde(default)]
    command: Option<Vec<String>>,
    #[serde(default)]
    expect: Option<RawExpect>,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    interval: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawExpect {
    Code(u16),
    Codes(Vec<u16>),
    Text(String),
}

/// Validate the `health:` list against the mapped names. Errors are `(line, column, message)`;
/// an undefined variable's message starts with `health check`.
pub(super) fn validate(
    raw: Vec<Spanned<RawCheck>>,
    mapped: &[&str],
) -> Result<Vec<HealthCheck>, (u64, u64, String)> {
    let mut checks: Vec<HealthCheck> = Vec::new();
    for spanned in raw {
        let (line, column) = (spanned.referenced.line(), spanned.referenced.column());
        let c = spanned.value;
        let err = |m: String| (line, column, format!("health check `{}`: {m}", c.name));
        if c.name.trim().is_empty() {
            return Err((line, column, "health check without a `name`".into()));
        }
        if checks.iter().any(|k| k.name == c.name) {
            return Err(err("the name is used twice".into()));
        }
        let has_contains = c.contains.is_some();
        let probe = match (c.http, c.tcp, c.command) {
            (Some(url), None, None) => {
                let expect = match c.expect {
                    None => Expect::Class(2),
                    Some(RawExpect::Code(code)) => Expect::Codes(vec![code]),
                    Some(RawExpect::Codes(codes)) if !codes.is_empty() => Expect::Codes(codes),
                    Some(RawExpect::Codes(_)) => return Err(err("`expect` is an empty list".into())),
                    Some(RawExpect::Text(t)) => parse_class(&t).ok_or_else(|| {
                        err(format!("`expect: {t}` is not a status, a list of statuses or a class like \"2xx\""))
                    })?,
                };
                Probe::Http {
                    url,
                    expect,
                    contains: c.contains,
                }
            }
            (None, Some(address), None) => Probe::Tcp { address },
            (None, None, Some(argv)) if !argv.is_empty() => Probe::Command { argv },
            (None, None, Some(_)) => return Err(err("`command` is an empty list".into())),
            (None, None, None) => return Err(err("give one of `http`, `tcp` or `command`".into())),
            _ => return Err(err("give only one of `http`, `tcp` or `command`".into())),
        };
        if !matches!(probe, Probe::Http { .. }) && has_contains {
            return Err(err("`contains` applies to `http` checks only".into()));
        }
        for text in probe.templates() {
            if let Some(var) = undefined_variables(text, mapped).into_iter().next() {
                return Err(err(format!(
                    "uses `env.{var}`, which the mapping does not define (mapped: {})",
                    mapped.join(", ")
                )));
            }
        }
        let duration = |v: Option<String>, default| match v {
            None => Ok(default),
            Some(s) => parse_duration(&s)
                .ok_or_else(|| err(format!("`{s}` is not a duration like 5s, 500ms or 2m"))),
        };
        checks.push(HealthCheck {
            name: c.name.clone(),
            probe,
            timeout: duration(c.timeout.clone(), DEFAULT_TIMEOUT)?,
            retries: c.retries.unwrap_or(DEFAULT_RETRIES),
            interval: duration(c.interval.clone(), DEFAULT_INTERVAL)?,
            line,
        });
    }
    Ok(checks)
}

impl Probe {
    /// The template strings of the probe.
    pub(crate) fn templates(&self) -> Vec<&str> {
        match self {
            Self::Http { url, .. } => vec![url.as_str()],
            Self::Tcp { address } => vec![address.as_str()],
            Self::Command { argv } => argv.iter().map(String::as_str).collect(),
        }
    }
}

/// Variables a template reads through `env.X` that are not in `mapped`.
pub(crate) fn undefined_variables(text: &str, mapped: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for r in template::references(text, &["env"]) {
        if let Some(crate::value::Segment::Key(name)) = r.path.first() {
            if !mapped.contains(&name.as_str()) && !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

fn parse_class(text: &str) -> Option<Expect> {
    let t = text.trim().to_ascii_lowercase();
    if let Some(d) = t.strip_suffix("xx") {
        let c: u16 = d.parse().ok()?;
        return (1..=5).contains(&c).then_some(Expect::Class(c));
    }
    t.parse().ok().map(|code| Expect::Codes(vec![code]))
}

/// `500ms`, `5s`, `2m`, `1h`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_classes() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("fast"), None);
        assert!(parse_class("2xx").unwrap().accepts(204));
        assert!(!parse_class("2XX").unwrap().accepts(301));
        assert_eq!(parse_class("404"), Some(Expect::Codes(vec![404])));
    }

    #[test]
    fn undefined_variables_are_found() {
        let t = "http://{{ env.LAMBDA_LABS_INSTANCE_IP }}:{{ env.PORT }}/health";
        assert_eq!(
            undefined_variables(t, &["PORT"]),
            ["LAMBDA_LABS_INSTANCE_IP"]
        );
        assert!(undefined_variables(t, &["PORT", "LAMBDA_LABS_INSTANCE_IP"]).is_empty());
    }
}
