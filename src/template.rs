//! Tera templates, shared by `template:` variables and template file targets.
//!
//! Autoescape is off (these are YAML/env files, not HTML) and undefined variables are errors.
//! [`references`] finds which context values a template can reach, so that secret-ness travels
//! from the values a template reads to what it produces.

use std::collections::HashMap;

use crate::value::{Segment, Value};

/// A template that failed to render.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct TemplateError {
    /// The undefined variable, when that is the failure (`outputs.instanceIP`).
    pub(crate) missing: Option<String>,
    pub(crate) message: String,
}

/// A tera instance with stackwire's filters and autoescape off.
pub(crate) fn engine() -> tera::Tera {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.register_filter("b64encode", b64encode);
    tera.register_filter("yaml_string", yaml_string);
    tera.register_filter("github_env", github_env);
    tera
}

/// Render a one-off template string with `context`.
pub(crate) fn render_str(template: &str, context: &tera::Context) -> Result<String, TemplateError> {
    let mut tera = engine();
    tera.add_raw_template("template", template)
        .map_err(from_tera)?;
    tera.render("template", context).map_err(from_tera)
}

/// Check that a template string parses, without rendering it.
pub(crate) fn check_str(template: &str) -> Result<(), TemplateError> {
    engine()
        .add_raw_template("template", template)
        .map_err(from_tera)
}

/// Convert a tera error chain into one message, picking out an undefined variable.
pub(crate) fn from_tera(err: tera::Error) -> TemplateError {
    let mut messages = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = cause {
        messages.push(e.to_string());
        cause = e.source();
    }
    let missing = messages.iter().find_map(|m| {
        let rest = m.strip_prefix("Variable `")?;
        let end = rest.find('`')?;
        rest[end..]
            .contains("not found")
            .then(|| rest[..end].to_owned())
    });
    let message = messages.last().cloned().unwrap_or_default();
    TemplateError { missing, message }
}

/// `{{ value | b64encode }}`: standard base64 of the string (Kubernetes Secret `data:`).
fn b64encode(value: &tera::Value, _: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    use base64::Engine as _;
    let s = tera::try_get_value!("b64encode", "value", String, value);
    Ok(tera::Value::String(
        base64::engine::general_purpose::STANDARD.encode(s),
    ))
}

/// `{{ value | yaml_string }}`: a double-quoted scalar that YAML reads back as exactly this
/// string (JSON string syntax is valid YAML), so `yes`, `1.0`, `#`, `: ` keep their meaning.
fn yaml_string(value: &tera::Value, _: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let s = match value {
        tera::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(tera::Value::String(
        serde_json::Value::String(s).to_string(),
    ))
}

/// `{{ value | github_env(name="NAME") }}`: one `$GITHUB_ENV` entry, `NAME=value` or a heredoc
/// with a fresh random delimiter, refusing what the runner would misread.
fn github_env(
    value: &tera::Value,
    args: &HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let value = tera::try_get_value!("github_env", "value", String, value);
    let name = match args.get("name") {
        Some(tera::Value::String(name)) => name.clone(),
        _ => {
            return Err(tera::Error::msg(
                "the `github_env` filter needs `name=\"NAME\"`",
            ));
        }
    };
    let var = crate::vars::Var {
        name,
        value: Some(value),
        secret: false,
    };
    crate::format::render(crate::format::Format::GithubEnv, &[var], true)
        .map(tera::Value::String)
        .map_err(|e| tera::Error::msg(e.to_string()))
}

/// A context value a template refers to: a root name (`outputs`) and the static path after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) root: String,
    pub(crate) path: Vec<Segment>,
}

/// Every reference to one of `roots` inside the template's `{{ }}` and `{% %}` blocks. A
/// dynamic subscript (`outputs[name]`) ends the path there, so the reference covers the
/// whole parent: the scan over-approximates, never under-approximates, what is read.
pub(crate) fn references(template: &str, roots: &[&str]) -> Vec<Reference> {
    let mut refs = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body_start = start + 2;
        let end = rest[body_start..]
            .find(close)
            .map_or(rest.len(), |e| body_start + e);
        scan_block(&rest[body_start..end], roots, &mut refs);
        rest = &rest[(end + 2).min(rest.len())..];
    }
    refs
}

fn scan_block(block: &str, roots: &[&str], refs: &mut Vec<Reference>) {
    let bytes = block.as_bytes();
    let mut i = 0;
    let mut in_string: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = in_string {
            if b == q {
                in_string = None;
            }
            i += 1;
            continue;
        }
        if b == b'"' || b == b'\'' || b == b'`' {
            in_string = Some(b);
            i += 1;
            continue;
        }
        let ident_start = b.is_ascii_alphabetic() || b == b'_';
        let prev_ok = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b'.');
        if !(ident_start && prev_ok) {
            i += 1;
            continue;
        }
        let end = ident_end(bytes, i);
        let word = &block[i..end];
        i = end;
        if !roots.contains(&word) {
            continue;
        }
        let mut path = Vec::new();
        loop {
            if bytes.get(i) == Some(&b'.')
                && bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                let e = ident_end(bytes, i + 1);
                let key = &block[i + 1..e];
                path.push(
                    key.parse::<usize>()
                        .map_or_else(|_| Segment::Key(key.to_owned()), Segment::Index),
                );
                i = e;
            } else if bytes.get(i) == Some(&b'[') {
                let Some(close) = block[i..].find(']') else {
                    break;
                };
                let inner = block[i + 1..i + close].trim();
                let quoted = inner
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
                match (quoted, inner.parse::<usize>()) {
                    (Some(key), _) => path.push(Segment::Key(key.to_owned())),
                    (None, Ok(n)) => path.push(Segment::Index(n)),
                    _ => break, // dynamic subscript: the reference covers the parent
                }
                i += close + 1;
            } else {
                break;
            }
        }
        refs.push(Reference {
            root: word.to_owned(),
            path,
        });
    }
}

fn ident_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// Secret-ness of what `reference` reaches in `root`: `(secret, sealed)`. A path that does not
/// resolve counts as its longest resolvable prefix.
pub(crate) fn reach(root: &Value, path: &[Segment]) -> (bool, bool) {
    let mut len = path.len();
    loop {
        if let Ok((value, crossed)) = root.lookup(&path[..len]) {
            return (crossed || value.contains_secret(), value.contains_sealed());
        }
        if len == 0 {
            return (root.contains_secret(), root.contains_sealed());
        }
        len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(refs: &[Reference]) -> Vec<String> {
        refs.iter()
            .map(|r| {
                format!(
                    "{}{}",
                    r.root,
                    if r.path.is_empty() {
                        String::new()
                    } else {
                        format!(".{}", crate::value::display_path(&r.path))
                    }
                )
            })
            .collect()
    }

    #[test]
    fn finds_references_in_blocks_only() {
        let t = r#"outputs.x {{ outputs.db.host }}:{{ outputs["a.b"] | upper }} {% for k, v in env %}{{ k }}{% endfor %} {{ "outputs.fake" }} {{ config.x[0] }} {{ outputs[name] }}"#;
        let refs = references(t, &["outputs", "env", "config"]);
        assert_eq!(
            keys(&refs),
            [
                "outputs.db.host",
                "outputs.a.b",
                "env",
                "config.x[0]",
                "outputs"
            ]
        );
    }

    #[test]
    fn undefined_variables_are_named() {
        let ctx = tera::Context::new();
        let e = render_str("{{ outputs.ip }}", &ctx).unwrap_err();
        assert_eq!(e.missing.as_deref(), Some("outputs.ip"), "{e}");
    }

    #[test]
    fn filters() {
        let mut ctx = tera::Context::new();
        ctx.insert("v", "yes: #1\n");
        assert_eq!(
            render_str("{{ v | yaml_string }}", &ctx).unwrap(),
            r#""yes: #1\n""#
        );
        assert_eq!(
            render_str("{{ v | b64encode }}", &ctx).unwrap(),
            "eWVzOiAjMQo="
        );
        assert_eq!(
            render_str("{{ v | github_env(name=\"X\") }}", &ctx)
                .unwrap()
                .lines()
                .count(),
            4,
            "heredoc"
        );
        ctx.insert("h", "<a&b>");
        assert_eq!(
            render_str("{{ h }}", &ctx).unwrap(),
            "<a&b>",
            "autoescape is off"
        );
    }
}
