//! Serialising mapped variables into the text formats users consume: dotenv, eval-safe shell,
//! JSON and the `$GITHUB_ENV` file format. Pure functions: they return text and never print.
//!
//! Every format refuses a value it cannot carry exactly, naming the variable and the character.

mod dotenv;
mod github_env;
mod shell;

pub(crate) use dotenv::merge as merge_dotenv;
pub(crate) use github_env::mask_commands;

use crate::vars::Var;

/// An output format for `stackwire env` and for file targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `NAME=value` lines readable by node `dotenv`, python-dotenv and dotenvy alike.
    Dotenv,
    /// `export NAME='value'` lines, safe to `eval`.
    Shell,
    /// One JSON object, NAME → string, in mapping order.
    Json,
    /// The `$GITHUB_ENV` file-command format (heredoc with a random delimiter for multi-line values).
    GithubEnv,
}

/// A value or name that a format cannot carry exactly.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FormatError {
    /// The value holds a character (or combination) that no form of the format carries safely.
    #[error("variable {name}: {format} cannot carry {what} in its value safely ({why})")]
    Unrepresentable {
        name: String,
        format: &'static str,
        /// The character(s) at fault, described (e.g. "carriage return (U+000D)").
        what: String,
        why: String,
    },
    /// The name may not be written in this format (e.g. `GITHUB_*` into `$GITHUB_ENV`).
    #[error("variable {name}: {why}")]
    ForbiddenName { name: String, why: String },
    /// A secret without plaintext was asked to be revealed (a bug in the caller).
    #[error("variable {name}: secret value was not decrypted")]
    Sealed { name: String },
}

/// Render `vars` in `format`. Secret values are masked as `[secret]` unless `reveal`.
pub(crate) fn render(format: Format, vars: &[Var], reveal: bool) -> Result<String, FormatError> {
    match format {
        Format::Dotenv => dotenv::render(vars, reveal),
        Format::Shell => shell::render(vars, reveal),
        Format::Json => Ok(json(vars, reveal)),
        Format::GithubEnv => github_env::render(vars, reveal),
    }
}

/// The value to write for `var`, or [`FormatError::Sealed`].
fn shown(var: &Var, reveal: bool) -> Result<&str, FormatError> {
    var.shown(reveal).ok_or_else(|| FormatError::Sealed {
        name: var.name.clone(),
    })
}

/// `{"NAME": "value", …}` in mapping order, two-space indented, with a trailing newline.
fn json(vars: &[Var], reveal: bool) -> String {
    let mut out = String::from("{");
    for (i, var) in vars.iter().enumerate() {
        let value = var.shown(reveal).unwrap_or(crate::vars::SECRET_MASK);
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&serde_json::Value::String(var.name.clone()).to_string());
        out.push_str(": ");
        out.push_str(&serde_json::Value::String(value.to_owned()).to_string());
    }
    out.push_str(if vars.is_empty() { "}\n" } else { "\n}\n" });
    out
}
