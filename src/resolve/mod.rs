//! Applying a mapping to a stack's outputs and config: the list of [`Var`]s, in mapping order.
//!
//! Every problem is collected, so one run reports all missing outputs and config keys, each
//! with the nearest names that do exist. Pure: no I/O, no printing.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::mapping::{Entry, Mapping, Source};
use crate::source::StackData;
use crate::template::{self, TemplateError};
use crate::value::{Segment, Value, display_path, parse_path};
use crate::vars::Var;

/// Variables that could not be resolved.
#[derive(Debug, thiserror::Error)]
pub(crate) struct ResolveError {
    pub(crate) file: PathBuf,
    pub(crate) problems: Vec<Problem>,
}

/// One variable that could not be resolved.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) name: String,
    pub(crate) line: u64,
    pub(crate) message: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(
                f,
                "{}:{}: {}: {}",
                self.file.display(),
                one.line,
                one.name,
                one.message
            ),
            many => {
                write!(f, "{} variables could not be resolved:", many.len())?;
                for p in many {
                    write!(
                        f,
                        "\n  {}:{}: {}: {}",
                        self.file.display(),
                        p.line,
                        p.name,
                        p.message
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Resolve every variable of `mapping` against `data`.
pub(crate) fn resolve(mapping: &Mapping, data: &StackData) -> Result<Vec<Var>, ResolveError> {
    let config = config_root(data);
    let outputs = Value::Object(data.outputs.clone());
    let mut vars: Vec<Var> = Vec::with_capacity(mapping.entries.len());
    let mut problems = Vec::new();
    for entry in &mapping.entries {
        let resolved = match &entry.source {
            Source::Value(v) => Ok(Some((Some(v.clone()), false))),
            Source::Output(path) => lookup_output(&data.outputs, path),
            Source::Config(key) => lookup_config(&data.config, &data.project, key),
            Source::Template(t) => render_template(t, &outputs, &config, &vars, entry),
        };
        match resolved {
            Ok(Some((value, secret))) => vars.push(Var {
                name: entry.name.clone(),
                value,
                secret: secret || entry.secret,
            }),
            Ok(None) => {}
            Err(_) if !entry.required => {}
            Err(message) => problems.push(Problem {
                name: entry.name.clone(),
                line: entry.line,
                message,
            }),
        }
    }
    if problems.is_empty() {
        Ok(vars)
    } else {
        Err(ResolveError {
            file: mapping.file.clone(),
            problems,
        })
    }
}

/// `(value, secret)`; the value is `None` for a sealed secret.
type Resolved = Result<Option<(Option<String>, bool)>, String>;

fn lookup_output(outputs: &BTreeMap<String, Value>, path: &[Segment]) -> Resolved {
    let Some(Segment::Key(name)) = path.first() else {
        return Err("empty output path".into());
    };
    let Some(root) = outputs.get(name) else {
        return Err(format!(
            "stack output `{name}` does not exist; {}",
            nearest("outputs", name, outputs.keys())
        ));
    };
    found(root, &path[1..]).map_err(|at| describe_miss(root, path, at + 1, "output"))
}

fn found(root: &Value, path: &[Segment]) -> Result<Option<(Option<String>, bool)>, usize> {
    let (value, secret) = root.lookup(path)?;
    Ok(Some((value.stringify(), secret)))
}

/// Explain why `path[at]` did not resolve inside `root` (which is `path[0]`).
fn describe_miss(root: &Value, path: &[Segment], at: usize, kind: &str) -> String {
    let parent = root.lookup(&path[1..at]).map(|(v, _)| v).unwrap_or(root);
    let mut parent = parent;
    while let Value::Secret(inner) = parent {
        parent = inner;
    }
    let here = display_path(&path[..at]);
    let want = display_path(&path[..=at]);
    match (parent, &path[at]) {
        (Value::Object(map), Segment::Key(k)) => {
            format!(
                "{kind} `{want}` does not exist: `{here}` has no key `{k}`; {}",
                nearest("keys", k, map.keys())
            )
        }
        (Value::Array(items), Segment::Index(n)) => {
            format!(
                "{kind} `{want}` does not exist: `{here}` has {} item(s), no index {n}",
                items.len()
            )
        }
        (other, _) => format!(
            "{kind} `{want}` does not exist: `{here}` is {}",
            kind_of(other)
        ),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        Value::Secret(_) | Value::Sealed => "a secret",
    }
}

/// "outputs are: a, b, c" with the names nearest to `want` first.
fn nearest<'a>(what: &str, want: &str, names: impl Iterator<Item = &'a String>) -> String {
    let mut names: Vec<&String> = names.collect();
    if names.is_empty() {
        return format!("the stack has no {what}");
    }
    let lower = want.to_lowercase();
    names.sort_by(|a, b| {
        let da = strsim::jaro_winkler(&lower, &a.to_lowercase());
        let db = strsim::jaro_winkler(&lower, &b.to_lowercase());
        db.total_cmp(&da).then_with(|| a.cmp(b))
    });
    let shown: Vec<String> = names.iter().take(12).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(12);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("{what} are (nearest first): {}{tail}", shown.join(", "))
}

/// Split a config reference into the full `ns:key` that exists and the path inside it.
fn lookup_config(config: &BTreeMap<String, Value>, project: &str, key: &str) -> Resolved {
    let (ns, rest) = key.split_once(':').unwrap_or((project, key));
    let full = format!("{ns}:{rest}");
    // Try the longest key first: `a.b` may be a flat key or `a` with a path `b`.
    let mut split = rest.len();
    loop {
        let candidate = format!("{ns}:{}", &rest[..split]);
        if let Some(root) = config.get(&candidate) {
            let sub = &rest[split..];
            let path = if sub.is_empty() {
                Vec::new()
            } else {
                parse_path(&format!("x{sub}")).map_err(|e| format!("config key `{full}`: {e}"))?
                    [1..]
                    .to_vec()
            };
            let mut full_path = vec![Segment::Key(candidate.clone())];
            full_path.extend(path.iter().cloned());
            return found(root, &path)
                .map_err(|at| describe_miss(root, &full_path, at + 1, "config key"));
        }
        match rest[..split].rfind('.') {
            Some(dot) => split = dot,
            None => break,
        }
    }
    Err(format!(
        "config key `{full}` is not set; {}",
        nearest("config keys", &full, config.keys())
    ))
}

/// The `config` root for templates: full `ns:key` names, plus bare keys of the project's namespace.
fn config_root(data: &StackData) -> Value {
    let mut map = data.config.clone();
    let prefix = format!("{}:", data.project);
    for (key, value) in &data.config {
        if let Some(short) = key.strip_prefix(&prefix) {
            map.entry(short.to_owned()).or_insert_with(|| value.clone());
        }
    }
    Value::Object(map)
}

fn render_template(
    template: &str,
    outputs: &Value,
    config: &Value,
    vars: &[Var],
    entry: &Entry,
) -> Resolved {
    let env = Value::Object(
        vars.iter()
            .map(|v| {
                let value = v.value.clone().map_or(Value::Sealed, Value::String);
                (
                    v.name.clone(),
                    if v.secret {
                        Value::Secret(Box::new(value))
                    } else {
                        value
                    },
                )
            })
            .collect(),
    );
    let (mut secret, mut sealed) = (false, false);
    let refs = template::references(template, &["outputs", "config", "env"]);
    let root_of = |name: &str| match name {
        "outputs" => outputs,
        "config" => config,
        _ => &env,
    };
    for r in &refs {
        let (s, x) = template::reach(root_of(&r.root), &r.path);
        secret |= s;
        sealed |= x;
    }
    if sealed {
        // It reads a secret that was not decrypted: it is not rendered, its value is a secret.
        // It must still parse, and what it reads outside such secrets must exist.
        template::check_str(template).map_err(|e| format!("template error: {}", e.message))?;
        if let Some(r) = refs
            .iter()
            .find(|r| root_of(&r.root).lookup(&r.path).is_err())
        {
            let var = match display_path(&r.path) {
                p if p.is_empty() => r.root.clone(),
                p if p.starts_with('[') => format!("{}{p}", r.root),
                p => format!("{}.{p}", r.root),
            };
            return Err(format!(
                "template uses `{var}`, which is not defined; {}",
                available(&var, outputs, config, &env, entry)
            ));
        }
        return Ok(Some((None, true)));
    }
    let mut context = tera::Context::new();
    context.insert("outputs", &outputs.plain_json());
    context.insert("config", &config.plain_json());
    context.insert("env", &env.plain_json());
    let rendered =
        template::render_str(template, &context).map_err(|e: TemplateError| match e.missing {
            Some(var) => format!(
                "template uses `{var}`, which is not defined; {}",
                available(&var, outputs, config, &env, entry)
            ),
            None => format!("template error: {}", e.message),
        })?;
    Ok(Some((Some(rendered), secret)))
}

/// What the template could have used instead of `var`.
fn available(var: &str, outputs: &Value, config: &Value, env: &Value, entry: &Entry) -> String {
    let (root, rest) = var.split_once('.').unwrap_or((var, ""));
    let keys = |v: &Value| match v {
        Value::Object(m) => m.keys().cloned().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let want = rest.split(['.', '[']).next().unwrap_or(rest);
    match root {
        "outputs" => nearest("outputs", want, keys(outputs).iter()),
        "config" => nearest("config keys", want, keys(config).iter()),
        "env" => nearest(
            &format!("variables mapped above {}", entry.name),
            want,
            keys(env).iter(),
        ),
        _ => "a template sees `outputs`, `config` and `env` (the variables mapped above it)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests;
