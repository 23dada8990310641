//! File targets of a mapping: what each file should contain, whether it changed, and writing
//! them all atomically. Dotenv targets are merged into the existing file; template targets are
//! rendered with tera over `env` (name → value), `vars` (in mapping order) and `secrets` (names).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::format::{self, FormatError};
use crate::fsutil::{self, NewFile, WriteError};
use crate::mapping::{FileTarget, Mapping};
use crate::template;
use crate::value::Value;
use crate::vars::Var;

/// Mode of files that hold a secret.
const SECRET_MODE: u32 = 0o600;
/// Mode of new files without secrets.
const PLAIN_MODE: u32 = 0o644;

/// A file target that cannot be rendered or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("{file}: {source}")]
    Format { file: String, source: FormatError },
    #[error("{file} (template {template}): {message}")]
    Template {
        file: String,
        template: String,
        message: String,
    },
    #[error("{file}: cannot read the template {}: {source}", template.display())]
    TemplateRead {
        file: String,
        template: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What one file target should hold.
#[derive(Debug)]
pub(crate) struct Planned {
    /// Path as written in the mapping.
    pub(crate) rel: String,
    pub(crate) path: PathBuf,
    pub(crate) content: String,
    /// Holds a secret (written with mode 0600).
    pub(crate) secret: bool,
    pub(crate) mode: u32,
    /// Why the file on disk differs, or `None` when it is current.
    pub(crate) change: Option<Change>,
}

/// How a target differs from the file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Created,
    Content,
    /// Same content, but a secret file readable by others.
    Mode,
}

impl Change {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Created => "would be created",
            Self::Content => "content differs",
            Self::Mode => "holds secrets but is not mode 0600",
        }
    }
}

/// Render every file target of `mapping` (nothing is written).
pub(crate) fn plan(
    mapping: &Mapping,
    vars: &[Var],
    root: &Path,
) -> Result<Vec<Planned>, RenderError> {
    mapping
        .files
        .iter()
        .map(|target| plan_one(target, vars, root))
        .collect()
}

fn plan_one(target: &FileTarget, vars: &[Var], root: &Path) -> Result<Planned, RenderError> {
    let existing = fs::read(&target.path).ok();
    let existing_mode = fs::metadata(&target.path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    let (content, secret) = match &target.template {
        None => {
            let text = existing
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let merged =
                format::merge_dotenv(&text, vars).map_err(|source| RenderError::Format {
                    file: target.rel.clone(),
                    source,
                })?;
            (merged, vars.iter().any(|v| v.secret))
        }
        Some(t) => render_template(target, t, vars, root)?,
    };
    let mode = if secret {
        SECRET_MODE
    } else {
        existing_mode.unwrap_or(PLAIN_MODE)
    };
    let change = match (&existing, existing_mode) {
        (None, _) => Some(Change::Created),
        (Some(old), _) if old.as_slice() != content.as_bytes() => Some(Change::Content),
        (Some(_), Some(m)) if secret && m & 0o077 != 0 => Some(Change::Mode),
        _ => None,
    };
    Ok(Planned {
        rel: target.rel.clone(),
        path: target.path.clone(),
        content,
        secret,
        mode,
        change,
    })
}

fn render_template(
    target: &FileTarget,
    template: &str,
    vars: &[Var],
    root: &Path,
) -> Result<(String, bool), RenderError> {
    let path = root.join(template);
    let source = fs::read_to_string(&path).map_err(|source| RenderError::TemplateRead {
        file: target.rel.clone(),
        template: path.clone(),
        source,
    })?;
    let err = |message: String| RenderError::Template {
        file: target.rel.clone(),
        template: template.to_owned(),
        message,
    };
    // Secret-ness: a file holds a secret when the template can reach a secret variable.
    let env = Value::Object(
        vars.iter()
            .map(|v| {
                let s = Value::String(v.value.clone().unwrap_or_default());
                (
                    v.name.clone(),
                    if v.secret {
                        Value::Secret(Box::new(s))
                    } else {
                        s
                    },
                )
            })
            .collect(),
    );
    let any_secret = vars.iter().any(|v| v.secret);
    let secret = template::references(&source, &["env", "vars"])
        .iter()
        .any(|r| {
            if r.root == "vars" {
                any_secret
            } else {
                template::reach(&env, &r.path).0
            }
        });
    let mut context = tera::Context::new();
    context.insert("env", &env.plain_json());
    let list: Vec<serde_json::Value> = vars
        .iter()
        .map(|v| serde_json::json!({"name": v.name, "value": v.value.clone().unwrap_or_default(), "secret": v.secret}))
        .collect();
    context.insert("vars", &list);
    context.insert(
        "secrets",
        &vars
            .iter()
            .filter(|v| v.secret)
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
    );
    let mut tera = template::engine();
    tera.add_raw_template(template, &source)
        .map_err(|e| err(template::from_tera(e).message))?;
    let rendered = tera.render(template, &context).map_err(|e| {
        let e = template::from_tera(e);
        match e.missing {
            Some(var) => err(format!(
                "uses `{var}`, which is not defined; the template sees `env.<NAME>` for the mapped variables ({}), `vars` and `secrets`",
                vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
            None => err(e.message),
        }
    })?;
    Ok((rendered, secret))
}

/// Write every planned file that changed, atomically and all-or-nothing.
pub(crate) fn write(planned: &[Planned]) -> Result<(), RenderError> {
    let files: Vec<NewFile<'_>> = planned
        .iter()
        .filter(|p| p.change.is_some())
        .map(|p| NewFile {
            path: &p.path,
            content: p.content.as_bytes(),
            mode: p.mode,
        })
        .collect();
    Ok(fsutil::replace_all(&files)?)
}
