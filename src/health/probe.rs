//! One attempt of one probe: an HTTP request, a TCP connection or a command, bounded by the
//! check's per-attempt timeout. `Ok` says what was found, `Err` why it is unhealthy; both
//! are raw (the caller masks secrets before anything is shown).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};

use crate::mapping::health::Expect;

/// At most this much of a response body is read for `contains`.
const MAX_BODY: usize = 1024 * 1024;
/// A check command's output line quoted in a failure, at most this long.
const MAX_QUOTED: usize = 200;

/// A rendered probe, ready to run.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    Http {
        url: String,
        expect: Expect,
        contains: Option<String>,
    },
    Tcp {
        address: String,
    },
    Command {
        argv: Vec<String>,
    },
}

/// What an attempt needs besides the action.
pub(super) struct Env<'a> {
    pub(super) client: Option<&'a reqwest::Client>,
    /// Working folder of commands (the repository root).
    pub(super) root: &'a Path,
    /// Variables added to the environment of commands.
    pub(super) vars: &'a [(String, String)],
}

/// Run one attempt under `timeout`.
pub(super) async fn attempt(
    action: &Action,
    timeout: Duration,
    env: &Env<'_>,
) -> Result<String, String> {
    let timed_out = || format!("no answer within {}", human(timeout));
    match action {
        Action::Http {
            url,
            expect,
            contains,
        } => {
            let client = env
                .client
                .ok_or_else(|| "no HTTP client (internal error)".to_owned())?;
            tokio::time::timeout(timeout, http(client, url, expect, contains.as_deref()))
                .await
                .unwrap_or_else(|_| Err(timed_out()))
        }
        Action::Tcp { address } => tokio::time::timeout(timeout, tcp(address))
            .await
            .unwrap_or_else(|_| Err(timed_out())),
        Action::Command { argv } => command(argv, timeout, env).await,
    }
}

/// A client for every HTTP check of a run: no redirects followed (the status is the
/// endpoint's own), a fresh connection per attempt.
pub(super) fn http_client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .user_agent(concat!(
            "stackwire/",
            env!("CARGO_PKG_VERSION"),
            " (health check)"
        ))
        .build()
        .map_err(|e| error_chain(&e))
}

async fn http(
    client: &reqwest::Client,
    url: &str,
    expect: &Expect,
    contains: Option<&str>,
) -> Result<String, String> {
    let mut response = client.get(url).send().await.map_err(describe_reqwest)?;
    let status = response.status();
    let shown = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    if !expect.accepts(status.as_u16()) {
        return Err(format!("{shown}, expected {}", expect.describe()));
    }
    if let Some(needle) = contains {
        let mut body: Vec<u8> = Vec::new();
        while body.len() < MAX_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(format!("{shown}, but {}", describe_reqwest(e))),
            }
        }
        if !String::from_utf8_lossy(&body).contains(needle) {
            return Err(format!(
                "{shown}, but the body does not contain `{needle}` (it starts `{}`)",
                quote(&String::from_utf8_lossy(&body))
            ));
        }
    }
    Ok(shown)
}

/// A reqwest error without its URL (which may hold a secret), down to its root cause.
fn describe_reqwest(e: reqwest::Error) -> String {
    let connect = e.is_connect();
    let builder = e.is_builder();
    let e = e.without_url();
    let root = error_chain(&e);
    if builder {
        format!("invalid URL: {root}")
    } else if connect {
        format!("cannot connect: {root}")
    } else {
        root
    }
}

/// The innermost cause of an error ("Connection refused (os error 111)"), which names the
/// problem; the outer layers only say which library noticed it.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(cause) = last.source() {
        last = cause;
    }
    last.to_string()
}

async fn tcp(address: &str) -> Result<String, String> {
    match tokio::net::TcpStream::connect(address).await {
        Ok(stream) => {
            let peer = stream
                .peer_addr()
                .map(|a| format!(" to {a}"))
                .unwrap_or_default();
            Ok(format!("connected{peer}"))
        }
        Err(e) => Err(format!("cannot connect: {e}")),
    }
}

async fn command(argv: &[String], timeout: Duration, env: &Env<'_>) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".into());
    };
    // A relative path (`./scripts/x.sh`) is taken from the repository root, like the cwd.
    let resolved: PathBuf = if program.contains('/') {
        env.root.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut cmd = tokio::process::Command::new(&resolved);
    cmd.args(args)
        .current_dir(env.root)
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let group = child
        .id()
        .and_then(|id| Pid::from_raw(i32::try_from(id).ok()?));
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let status = describe_status(out.status);
            if out.status.success() {
                Ok(status)
            } else {
                let last = last_line(&out.stderr).or_else(|| last_line(&out.stdout));
                Err(match last {
                    Some(line) => format!("{status}: {line}"),
                    None => status,
                })
            }
        }
        Ok(Err(e)) => Err(format!("cannot wait for it: {e}")),
        Err(_) => {
            // The child is killed on drop; its own children with the group.
            if let Some(group) = group {
                let _ = kill_process_group(group, Signal::KILL);
            }
            Err(format!("did not finish within {}", human(timeout)))
        }
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}

fn last_line(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| quote(l.trim()))
}

/// At most [`MAX_QUOTED`] characters of `text`, on one line.
fn quote(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut chars = one_line.chars();
    let mut out: String = chars.by_ref().take(MAX_QUOTED).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// `300 ms`, `5 s`, `1.5 s`, `2 min`.
pub(crate) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 120_000 {
        let s = d.as_secs_f64();
        if ms % 1000 == 0 {
            format!("{} s", ms / 1000)
        } else {
            format!("{s:.1} s")
        }
    } else {
        format!("{:.0} min", d.as_secs_f64() / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(300)), "300 ms");
        assert_eq!(human(Duration::from_secs(5)), "5 s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human(Duration::from_secs(600)), "10 min");
    }

    #[test]
    fn quoted_output_is_one_bounded_line() {
        assert_eq!(last_line(b"a\nlast line\n\n"), Some("last line".into()));
        assert_eq!(last_line(b"  \n"), None);
        let long = "x".repeat(500);
        assert_eq!(quote(&long).chars().count(), MAX_QUOTED + 1);
        assert_eq!(quote("a\tb"), "a b");
    }
}
