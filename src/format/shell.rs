//! `export NAME='value'` lines that bash, dash and zsh can `eval` (or `source`) safely.
//!
//! Inside single quotes every byte is literal in POSIX shells, newlines and carriage returns
//! included, so the only character needing care is `'` itself, written as `\'` between quoted
//! runs (`it's` → `'it'\''s'`). No two quotes are ever adjacent (a quoted run is never empty,
//! except for the empty value `''`), so zsh's `RC_QUOTES` option cannot change the meaning.
//! The one value no shell variable can hold is one containing NUL: it is refused.

use super::dotenv::check_name;
use super::{FormatError, shown};
use crate::vars::Var;

/// `export NAME='value'` lines, one per variable, in order.
pub(crate) fn render(vars: &[Var], reveal: bool) -> Result<String, FormatError> {
    let mut out = String::new();
    for var in vars {
        check_name(&var.name)?;
        let value = shown(var, reveal)?;
        if value.contains('\0') {
            return Err(FormatError::Unrepresentable {
                name: var.name.clone(),
                format: "shell",
                what: "NUL (U+0000)".to_owned(),
                why: "bash and dash variables cannot hold NUL (bash drops it, dash ends the \
                      string there), and no environment variable can"
                    .to_owned(),
            });
        }
        out.push_str("export ");
        out.push_str(&var.name);
        out.push('=');
        push_quoted(&mut out, value);
        out.push('\n');
    }
    Ok(out)
}

/// Append `value` as one shell word that expands to exactly `value`.
fn push_quoted(out: &mut String, value: &str) {
    if value.is_empty() {
        out.push_str("''");
        return;
    }
    for (i, run) in value.split('\'').enumerate() {
        if i > 0 {
            out.push_str("\\'");
        }
        if !run.is_empty() {
            out.push('\'');
            out.push_str(run);
            out.push('\'');
        }
    }
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

    fn quoted(value: &str) -> String {
        let mut out = String::new();
        push_quoted(&mut out, value);
        out
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted(""), "''");
        assert_eq!(quoted("plain"), "'plain'");
        assert_eq!(quoted("it's"), "'it'\\''s'");
        assert_eq!(quoted("'"), "\\'");
        assert_eq!(quoted("''"), "\\'\\'");
        assert_eq!(quoted("'a'"), "\\''a'\\'");
        assert_eq!(
            quoted("$(rm -rf /) `x` \\ \"${A}\"\n\r\t"),
            "'$(rm -rf /) `x` \\ \"${A}\"\n\r\t'"
        );
    }

    #[test]
    fn render_lines() {
        let vars = [var("A", "1"), var("B", "it's"), var("C", "")];
        assert_eq!(
            render(&vars, true).unwrap(),
            "export A='1'\nexport B='it'\\''s'\nexport C=''\n"
        );
        assert_eq!(render(&[], true).unwrap(), "");
    }

    #[test]
    fn render_masks_secrets_and_needs_plaintext_to_reveal() {
        let secret = Var {
            name: "S".into(),
            value: Some("pw".into()),
            secret: true,
        };
        assert_eq!(
            render(std::slice::from_ref(&secret), false).unwrap(),
            "export S='[secret]'\n"
        );
        assert_eq!(
            render(std::slice::from_ref(&secret), true).unwrap(),
            "export S='pw'\n"
        );
        let sealed = Var {
            name: "S".into(),
            value: None,
            secret: true,
        };
        assert_eq!(
            render(&[sealed], true),
            Err(FormatError::Sealed { name: "S".into() })
        );
    }

    #[test]
    fn refuses_nul_and_bad_names() {
        match render(&[var("N", "a\0b")], true) {
            Err(FormatError::Unrepresentable {
                name, format, what, ..
            }) => {
                assert_eq!(
                    (name.as_str(), format, what.as_str()),
                    ("N", "shell", "NUL (U+0000)")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            render(&[var("A;rm -rf /", "x")], true),
            Err(FormatError::ForbiddenName { .. })
        ));
    }
}
