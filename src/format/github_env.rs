//! The `$GITHUB_ENV` file-command format, and `::add-mask::` workflow commands.
//!
//! The runner (`SetEnvFileCommand` in `actions/runner`) reads the file line by line, splitting at
//! LF (and at CRLF on Windows runners). A line `NAME=value` sets `value` (everything after the
//! first `=`); a line `NAME<<DELIMITER` starts a value made of the following lines up to a line
//! equal to `DELIMITER`. So:
//!
//! - a value without a line feed is written `NAME=value`;
//! - a value with line feeds is written as a heredoc with a fresh random delimiter
//!   `ghadelimiter_<uuid v4>` (what `@actions/core` uses), regenerated if the name or value
//!   happens to contain it: a fixed delimiter would let a value end the heredoc early and set
//!   further variables (GHSA-7r3h-m5j6-3q42);
//! - a carriage return is refused: a Windows runner drops one before a line break, so it cannot
//!   be carried exactly; NUL is refused as no environment variable can hold it;
//! - names that change how later steps run (`GITHUB_*`, `PATH`, `LD_PRELOAD`, `NODE_OPTIONS`, …)
//!   are refused.

use super::dotenv::check_name;
use super::{FormatError, shown};
use crate::vars::Var;

const FORMAT: &str = "github-env";

/// Name prefixes (compared ignoring ASCII case, as Windows does) that may not be set, with why.
const FORBIDDEN_PREFIXES: &[(&str, &str)] = &[
    (
        "GITHUB_",
        "names starting with GITHUB_ are reserved for GitHub Actions",
    ),
    (
        "RUNNER_",
        "names starting with RUNNER_ are reserved for the runner",
    ),
    (
        "ACTIONS_",
        "names starting with ACTIONS_ configure the runner and its services",
    ),
    (
        "INPUT_",
        "INPUT_* variables are how actions read their inputs; setting one changes the inputs of later steps",
    ),
    (
        "LD_",
        "dynamic-loader variables make every later process load other code",
    ),
    (
        "DYLD_",
        "dynamic-loader variables make every later process load other code",
    ),
    (
        "BASH_FUNC_",
        "bash imports BASH_FUNC_* variables as functions in every later bash",
    ),
    (
        "GIT_CONFIG_",
        "GIT_CONFIG_* variables inject git configuration (and so commands) into later steps",
    ),
];

/// Exact names (ignoring ASCII case) that change which code later steps run.
const FORBIDDEN_NAMES: &[&str] = &[
    "PATH",
    "NODE_OPTIONS",
    "NODE_PATH",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "IFS",
    "CDPATH",
    "PROMPT_COMMAND",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_PROXY_COMMAND",
    "GIT_EXTERNAL_DIFF",
    "GIT_TEMPLATE_DIR",
];

/// `$GITHUB_ENV` text setting every variable, in order.
pub(crate) fn render(vars: &[Var], reveal: bool) -> Result<String, FormatError> {
    render_with(vars, reveal, &mut random_delimiter)
}

/// [`render`] with the heredoc delimiters drawn from `delimiter` (for tests).
fn render_with(
    vars: &[Var],
    reveal: bool,
    delimiter: &mut dyn FnMut() -> String,
) -> Result<String, FormatError> {
    let mut out = String::new();
    for var in vars {
        check_name(&var.name)?;
        check_allowed(&var.name)?;
        let value = shown(var, reveal)?;
        let refuse = |what: &str, why: &str| FormatError::Unrepresentable {
            name: var.name.clone(),
            format: FORMAT,
            what: what.to_owned(),
            why: why.to_owned(),
        };
        if value.contains('\0') {
            return Err(refuse(
                "NUL (U+0000)",
                "no environment variable can hold NUL: the C environment ends a string there",
            ));
        }
        if value.contains('\r') {
            return Err(refuse(
                "a carriage return (U+000D)",
                "the runner reads $GITHUB_ENV line by line and a Windows runner drops a carriage \
                 return before a line break",
            ));
        }
        if value.contains('\n') {
            let delimiter = loop {
                let candidate = delimiter();
                if !value.contains(&candidate) && !var.name.contains(&candidate) {
                    break candidate;
                }
            };
            out.push_str(&var.name);
            out.push_str("<<");
            out.push_str(&delimiter);
            out.push('\n');
            out.push_str(value);
            out.push('\n');
            out.push_str(&delimiter);
            out.push('\n');
        } else {
            out.push_str(&var.name);
            out.push('=');
            out.push_str(value);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Refuse names that would change how later steps of the job run.
fn check_allowed(name: &str) -> Result<(), FormatError> {
    let upper = name.to_ascii_uppercase();
    let why = FORBIDDEN_PREFIXES
        .iter()
        .find(|(prefix, _)| upper.starts_with(prefix))
        .map(|(_, why)| (*why).to_owned())
        .or_else(|| {
            FORBIDDEN_NAMES.contains(&upper.as_str()).then(|| {
                format!("{upper} changes which programs or code every later step of the job runs")
            })
        });
    match why {
        Some(why) => Err(FormatError::ForbiddenName {
            name: name.to_owned(),
            why: format!("refusing to write it to $GITHUB_ENV: {why}"),
        }),
        None => Ok(()),
    }
}

/// `ghadelimiter_<random uuid v4>`.
fn random_delimiter() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::from("ghadelimiter_");
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// `::add-mask::` workflow commands for every secret value, one per line of the value.
///
/// Sealed (`None`) and empty values are skipped. Each line is masked on its own, trimmed, and
/// whitespace-only lines are skipped (the runner warns about them): runners before
/// actions/runner#1521 registered a multi-line mask as one string, which never matches the log,
/// because the log is masked one output line at a time (actions/runner#161), and a command is
/// itself one line. `%` is escaped as `%25` since the runner unescapes `%25`, `%0D` and `%0A`
/// in command data. Print these before any value can reach the log.
pub(crate) fn mask_commands(vars: &[Var]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    for var in vars.iter().filter(|var| var.secret) {
        let Some(value) = var.value.as_deref() else {
            continue;
        };
        for line in value.split(['\r', '\n']).map(str::trim) {
            if line.is_empty() || seen.contains(&line) {
                continue;
            }
            seen.push(line);
            out.push_str("::add-mask::");
            out.push_str(&line.replace('%', "%25"));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str) -> Var {
        Var {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            secret: false,
        }
    }

    fn secret(name: &str, value: Option<&str>) -> Var {
        Var {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            secret: true,
        }
    }

    /// Parse `$GITHUB_ENV` text as the runner does on Linux.
    fn runner_parse(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut lines = text.split_inclusive('\n');
        while let Some(line) = lines.next() {
            let line = line.strip_suffix('\n').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let eq = line.find('=');
            let heredoc = line.find("<<");
            match (eq, heredoc) {
                (Some(e), h) if h.is_none_or(|h| e < h) => {
                    out.push((line[..e].to_owned(), line[e + 1..].to_owned()));
                }
                (_, Some(h)) => {
                    let (name, delimiter) = (&line[..h], &line[h + 2..]);
                    let mut value = String::new();
                    loop {
                        let next = lines.next().expect("delimiter not found");
                        if next.strip_suffix('\n').unwrap_or(next) == delimiter {
                            break;
                        }
                        value.push_str(next);
                    }
                    value.pop();
                    out.push((name.to_owned(), value));
                }
                _ => panic!("invalid line {line:?}"),
            }
        }
        out
    }

    #[test]
    fn single_line_values() {
        let vars = [
            var("A", "1"),
            var("B", ""),
            var("C", "x=y<<EOF $Z 'q' \"r\" \t é"),
        ];
        let out = render(&vars, true).unwrap();
        assert_eq!(out, "A=1\nB=\nC=x=y<<EOF $Z 'q' \"r\" \t é\n");
        let parsed = runner_parse(&out);
        for (var, (name, value)) in vars.iter().zip(&parsed) {
            assert_eq!((&var.name, var.value.as_ref().unwrap()), (name, value));
        }
    }

    #[test]
    fn multi_line_values_use_heredoc_with_random_delimiter() {
        let values = [
            "a\nb",
            "\n",
            "a\n",
            "\nb",
            "x\n\n\ny\n",
            "EOF\nghadelimiter_\n",
        ];
        let vars: Vec<Var> = values
            .iter()
            .enumerate()
            .map(|(i, v)| var(&format!("V{i}"), v))
            .collect();
        let out = render(&vars, true).unwrap();
        let parsed = runner_parse(&out);
        assert_eq!(parsed.len(), values.len());
        for ((i, value), (name, read)) in values.iter().enumerate().zip(&parsed) {
            assert_eq!(
                (name.as_str(), read.as_str()),
                (format!("V{i}").as_str(), *value)
            );
        }
        let delimiters: Vec<&str> = out
            .lines()
            .filter_map(|l| l.split_once("<<").map(|(_, d)| d))
            .collect();
        assert_eq!(delimiters.len(), values.len());
        for (i, d) in delimiters.iter().enumerate() {
            assert!(d.starts_with("ghadelimiter_") && d.len() == 13 + 36, "{d}");
            assert!(!delimiters[..i].contains(d), "delimiters must be fresh");
        }
    }

    #[test]
    fn delimiter_present_in_value_is_regenerated() {
        let mut draws = vec!["D2".to_owned(), "D1".to_owned()];
        let mut next = || draws.pop().unwrap();
        let out = render_with(&[var("A", "x\nD1\ny")], true, &mut next).unwrap();
        assert_eq!(out, "A<<D2\nx\nD1\ny\nD2\n");
    }

    #[test]
    fn random_delimiter_is_a_v4_uuid() {
        let d = random_delimiter();
        let uuid = d.strip_prefix("ghadelimiter_").unwrap();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(
            uuid.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(d, random_delimiter());
    }

    #[test]
    fn refuses_cr_and_nul() {
        for (value, what) in [
            ("a\rb", "a carriage return (U+000D)"),
            ("a\r\n", "a carriage return (U+000D)"),
            ("\0", "NUL (U+0000)"),
        ] {
            match render(&[var("A", value)], true) {
                Err(FormatError::Unrepresentable {
                    name,
                    format,
                    what: w,
                    ..
                }) => {
                    assert_eq!(
                        (name.as_str(), format, w.as_str()),
                        ("A", "github-env", what)
                    );
                }
                other => panic!("{value:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_names_that_alter_later_steps() {
        for name in [
            "GITHUB_TOKEN",
            "github_path",
            "RUNNER_TEMP",
            "ACTIONS_STEP_DEBUG",
            "INPUT_TOKEN",
            "PATH",
            "Path",
            "NODE_OPTIONS",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "DYLD_INSERT_LIBRARIES",
            "BASH_ENV",
            "ENV",
            "BASH_FUNC_x",
            "GIT_CONFIG_COUNT",
            "GIT_SSH_COMMAND",
            "PYTHONPATH",
            "JAVA_TOOL_OPTIONS",
        ] {
            match render(&[var(name, "x")], true) {
                Err(FormatError::ForbiddenName { name: n, why }) => {
                    assert_eq!(n, name);
                    assert!(why.contains("$GITHUB_ENV"), "{why}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for name in [
            "GITHUBX",
            "MY_PATH",
            "ENVIRONMENT",
            "NODE_ENV",
            "LDFLAGS",
            "API_URL",
        ] {
            assert!(render(&[var(name, "x")], true).is_ok(), "{name}");
        }
        assert!(matches!(
            render(&[var("A<<B", "x")], true),
            Err(FormatError::ForbiddenName { .. })
        ));
    }

    #[test]
    fn secrets_are_masked_unless_revealed() {
        let vars = [secret("S", Some("p\nq"))];
        assert_eq!(render(&vars, false).unwrap(), "S=[secret]\n");
        assert!(render(&vars, true).unwrap().starts_with("S<<ghadelimiter_"));
        assert_eq!(
            render(&[secret("S", None)], true),
            Err(FormatError::Sealed { name: "S".into() })
        );
    }

    #[test]
    fn mask_commands_one_per_line() {
        let vars = [
            var("PLAIN", "not secret"),
            secret("SEALED", None),
            secret("EMPTY", Some("")),
            secret("ONE", Some("hunter2")),
            secret(
                "PEM",
                Some("-----BEGIN-----\nAAA\r\n  BBB  \n\n \t\n-----END-----\n"),
            ),
            secret("AGAIN", Some("AAA")),
            secret("PCT", Some("50%25 %0A")),
        ];
        assert_eq!(
            mask_commands(&vars),
            "::add-mask::hunter2\n::add-mask::-----BEGIN-----\n::add-mask::AAA\n::add-mask::BBB\n\
             ::add-mask::-----END-----\n::add-mask::50%2525 %250A\n"
        );
        assert_eq!(mask_commands(&[]), "");
    }
}
