//! Where a stack's outputs and config come from: the pulumi binary, a `--state` export file,
//! or a local `file://` backend read directly. One [`load`] call per command fetches what the
//! command needs (config only when mapped; plaintext only when a value will be revealed).
//!
//! Through the binary this is at most two processes, run concurrently: `stack export` (outputs
//! with secret markers) and `config --json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ExitStatus;
use crate::pulumi::{Pulumi, PulumiError};
use crate::state::diy::{self, Backend, DiyError};
use crate::state::passphrase::{self, Crypter, PassphraseError};
use crate::state::stack_config::{self, ConfigError};
use crate::state::{self, Base64Unseal, SecretsProvider, StateError};
use crate::value::{KeepSealed, Unseal, Value};

/// Where stack data is read from, resolved from flags, the mapping and the environment.
#[derive(Debug)]
pub(crate) enum Origin {
    /// Run the pulumi binary.
    Cli(Pulumi),
    /// A `pulumi stack export` (or checkpoint) file given with `--state`.
    StateFile(PathBuf),
    /// A DIY backend read directly; `cli` is the fallback for providers only pulumi can decrypt.
    Diy {
        backend: Backend,
        url: String,
        cli: Pulumi,
    },
}

/// What a command needs from the stack.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Needs {
    /// Stack config (some variable maps a config key).
    pub(crate) config: bool,
    /// Secret plaintext (values will be revealed or written).
    pub(crate) plaintext: bool,
}

/// The stack's outputs and config, with secrets marked.
#[derive(Debug, Default)]
pub(crate) struct StackData {
    pub(crate) outputs: BTreeMap<String, Value>,
    /// `namespace:key` → value; empty unless config was needed.
    pub(crate) config: BTreeMap<String, Value>,
    /// The project name, the default config namespace.
    pub(crate) project: String,
    /// Things the user should know (a fallback taken, config that needs the binary).
    pub(crate) notes: Vec<String>,
    /// What was read, for `-v`.
    pub(crate) detail: String,
}

/// Why stack data could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SourceError {
    #[error(transparent)]
    Pulumi(#[from] PulumiError),
    #[error("{}: {source}", file.display())]
    State { file: PathBuf, source: StateError },
    #[error(transparent)]
    Diy(#[from] DiyError),
    #[error(transparent)]
    Passphrase(#[from] PassphraseError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The pulumi binary was run because stackwire could not decrypt, and it failed too.
    #[error("{why}; running pulumi for it failed: {source}")]
    Fallback {
        why: String,
        source: Box<SourceError>,
    },
    #[error(
        "{}: secrets are encrypted by the `{provider}` secrets provider, which only pulumi can decrypt; read it through the pulumi binary, or export it with `pulumi stack export --show-secrets`",
        file.display()
    )]
    Undecryptable { file: PathBuf, provider: String },
}

impl SourceError {
    pub(crate) fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Pulumi(e) => crate::error::pulumi_status(e),
            Self::Fallback { source, .. } => source.exit_status(),
            _ => ExitStatus::Invalid,
        }
    }
}

/// Read what `needs` asks for about `stack` from `origin`.
pub(crate) fn load(
    origin: &Origin,
    stack: &str,
    project_dir: &Path,
    needs: Needs,
) -> Result<StackData, SourceError> {
    match origin {
        Origin::Cli(pulumi) => from_cli(pulumi, stack, project_dir, needs),
        Origin::StateFile(file) => {
            let text = diy::read_state_text(file)?;
            from_state_text(&text, file, stack, project_dir, needs)
        }
        Origin::Diy { backend, url, cli } => {
            let project = project_name(project_dir, stack)?;
            let file = backend.locate(&project, stack)?;
            let text = diy::read_state_text(&file)?;
            match from_state_text(&text, &file, stack, project_dir, needs) {
                Err(SourceError::Undecryptable { provider, .. }) => {
                    let why = format!(
                        "read {url} through the pulumi binary: its secrets use the `{provider}` provider, which only pulumi can decrypt"
                    );
                    match from_cli(cli, stack, project_dir, needs) {
                        Ok(mut data) => {
                            data.notes.push(why);
                            Ok(data)
                        }
                        Err(source) => Err(SourceError::Fallback {
                            why,
                            source: Box::new(source),
                        }),
                    }
                }
                other => other,
            }
        }
    }
}

/// The stack's whole state document (export or checkpoint JSON), without decrypting anything:
/// for commands that need every resource (`adopt`, `check`).
pub(crate) fn load_state_text(
    origin: &Origin,
    stack: &str,
    project_dir: &Path,
) -> Result<String, SourceError> {
    match origin {
        Origin::Cli(pulumi) => Ok(pulumi.start(&pulumi.stack_export(stack, false))?.finish()?),
        Origin::StateFile(file) => Ok(diy::read_state_text(file)?),
        Origin::Diy { backend, .. } => {
            let project = project_name(project_dir, stack)?;
            Ok(diy::read_state_text(&backend.locate(&project, stack)?)?)
        }
    }
}

/// The project name: `Pulumi.yaml`'s `name`, else the project part of a qualified stack name.
fn project_name(project_dir: &Path, stack: &str) -> Result<String, SourceError> {
    let qualified = stack.split('/').collect::<Vec<_>>();
    if qualified.len() == 3 {
        return Ok(qualified[1].to_owned());
    }
    Ok(stack_config::project_name(project_dir)?.0)
}

/// The stack's short name (`organization/proj/dev` → `dev`), as in `Pulumi.<stack>.yaml`.
fn short_name(stack: &str) -> &str {
    stack.rsplit('/').next().unwrap_or(stack)
}

fn from_cli(
    pulumi: &Pulumi,
    stack: &str,
    project_dir: &Path,
    needs: Needs,
) -> Result<StackData, SourceError> {
    let export = pulumi.stack_export(stack, needs.plaintext);
    let running_export = pulumi.start(&export)?;
    let running_config = if needs.config {
        Some(pulumi.start(&pulumi.config(stack, needs.plaintext))?)
    } else {
        None
    };
    let command = running_export.command().to_owned();
    let export_text = running_export.finish();
    let config_text = running_config.map(|r| {
        let command = r.command().to_owned();
        r.finish().map(|text| (command, text))
    });
    let export_text = export_text?;
    let dep = state::parse_pulumi_output(&export_text)
        .map_err(|e| PulumiError::garbage(&command, e.to_string()))?;
    let outputs = dep
        .outputs(&KeepSealed)
        .map_err(|e| PulumiError::garbage(&command, e.to_string()))?;
    let mut data = StackData {
        outputs,
        detail: format!("`{command}`: {}", dep.describe()),
        ..StackData::default()
    };
    if let Some(config) = config_text {
        let (command, text) = config?;
        data.config = parse_config_json(&text).map_err(|e| PulumiError::garbage(&command, e))?;
    }
    if needs.config {
        data.project = project_name(project_dir, stack).unwrap_or_default();
    }
    Ok(data)
}

/// Parse `pulumi config --json`: `{"ns:key": {"value"?, "objectValue"?, "secret"}}`.
fn parse_config_json(text: &str) -> Result<BTreeMap<String, Value>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        value: Option<String>,
        #[serde(default, rename = "objectValue")]
        object_value: Option<serde_json::Value>,
        #[serde(default)]
        secret: bool,
    }
    let map: BTreeMap<String, Entry> =
        serde_json::from_str(text).map_err(|e| format!("not config JSON ({e})"))?;
    Ok(map
        .into_iter()
        .map(|(key, entry)| {
            let value = match (entry.object_value, entry.value) {
                (Some(obj), _) => Value::from_plain(&obj),
                (None, Some(s)) => Value::String(s),
                (None, None) => Value::Sealed,
            };
            let value = if entry.secret {
                Value::Secret(Box::new(value))
            } else {
                value
            };
            (key, value)
        })
        .collect())
}

fn from_state_text(
    text: &str,
    file: &Path,
    stack: &str,
    project_dir: &Path,
    needs: Needs,
) -> Result<StackData, SourceError> {
    let state_err = |source| SourceError::State {
        file: file.to_owned(),
        source,
    };
    let dep = state::parse(text).map_err(state_err)?;
    let mut crypter: Option<(String, Crypter)> = None;
    let unseal: Box<dyn Unseal> = if needs.plaintext && dep.outputs_have_ciphertext() {
        match dep.secrets.clone() {
            Some(SecretsProvider::Base64) => Box::new(Base64Unseal),
            Some(SecretsProvider::Passphrase { salt }) => {
                let c = derive(&salt)?;
                crypter = Some((salt, c.clone()));
                Box::new(c)
            }
            Some(SecretsProvider::Other(provider)) => {
                return Err(SourceError::Undecryptable {
                    file: file.to_owned(),
                    provider,
                });
            }
            None => Box::new(KeepSealed),
        }
    } else {
        Box::new(KeepSealed)
    };
    let outputs = dep.outputs(unseal.as_ref()).map_err(state_err)?;
    let mut data = StackData {
        outputs,
        detail: format!("{}: {}", file.display(), dep.describe()),
        ..StackData::default()
    };
    if needs.config {
        data.project = project_name(project_dir, stack)?;
        let config_file =
            stack_config::project_file(project_dir)?.stack_config_path(short_name(stack));
        if config_file.exists() {
            let parsed = stack_config::load(&config_file)?;
            if !parsed.environment.is_empty() || parsed.environment_inline {
                data.notes.push(format!(
                    "{}: values imported from ESC environments ({}) are only available through the pulumi binary",
                    config_file.display(),
                    parsed.environment.join(", ")
                ));
            }
            let key = if needs.plaintext && parsed.has_secure_values() {
                // The config file's salt, else the state's: both name the stack's one key.
                let state_salt = match &dep.secrets {
                    Some(SecretsProvider::Passphrase { salt }) => Some(salt.as_str()),
                    _ => None,
                };
                match (parsed.encryptionsalt.as_deref().or(state_salt), &crypter) {
                    (Some(salt), Some((used, c))) if salt == used => Some(c.clone()),
                    (Some(salt), _) => Some(derive(salt)?),
                    (None, _) => {
                        return Err(SourceError::Undecryptable {
                            file: config_file,
                            provider: parsed
                                .secretsprovider
                                .clone()
                                .unwrap_or_else(|| "unknown".into()),
                        });
                    }
                }
            } else {
                None
            };
            data.config = parsed.values(&data.project, key.as_ref())?;
        }
    }
    Ok(data)
}

/// Derive the passphrase key for `salt` (once per stack per run).
fn derive(salt: &str) -> Result<Crypter, SourceError> {
    let pass =
        passphrase::read_passphrase(|k| std::env::var_os(k))?.ok_or(PassphraseError::Missing)?;
    Ok(Crypter::new(salt, &pass)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_shapes() {
        let text = r#"{
  "p:obj": {"value": "{\"a\":1}", "objectValue": {"a": 1}, "secret": false},
  "p:plain": {"value": "x", "secret": false},
  "p:pw": {"secret": true},
  "p:shown": {"value": "hunter2", "secret": true}
}"#;
        let map = parse_config_json(text).unwrap();
        assert_eq!(map["p:plain"], Value::String("x".into()));
        assert_eq!(map["p:pw"], Value::Secret(Box::new(Value::Sealed)));
        assert_eq!(
            map["p:shown"],
            Value::Secret(Box::new(Value::String("hunter2".into())))
        );
        assert!(matches!(map["p:obj"], Value::Object(_)));
        assert!(parse_config_json("nope").is_err());
    }
}
