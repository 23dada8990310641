//! Reading `Pulumi.<stack>.yaml` stack config files and the `Pulumi.yaml` project file.
//!
//! Follows `sdk/go/common/workspace` and `resource/config`: bare keys get the project namespace,
//! `ns:config:key` means `ns:key`, top-level scalars are strings (numbers and booleans as Go's JSON
//! spells them), objects keep their types, and `{secure: v1:…}` is a secret at any depth.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;
use serde_saphyr::Spanned;

use super::passphrase::{Crypter, PassphraseError};
use crate::value::Value;

/// Why a project or stack config file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("{} is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    /// The YAML is malformed or has the wrong shape.
    #[error("{}{}: {message}", path.display(), at(*line, *column))]
    Yaml {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    /// A `config:` key is not `<namespace>:<name>`, `<namespace>:config:<name>` or a bare name.
    #[error("{}{}: config key `{key}` {reason}", path.display(), at(*line, *column))]
    BadKey {
        path: PathBuf,
        line: u64,
        column: u64,
        key: String,
        reason: String,
    },
    /// Two `config:` keys mean the same key (`aws:region` and `aws:config:region`).
    #[error("{}{}: config key `{key}` is set twice (also as `{other}`)", path.display(), at(*line, *column))]
    DuplicateKey {
        path: PathBuf,
        line: u64,
        column: u64,
        key: String,
        other: String,
    },
    /// A `secure:` value cannot be decrypted.
    #[error("{}{}: cannot decrypt config value `{key}`: {source}", path.display(), at(*line, *column))]
    Decrypt {
        path: PathBuf,
        line: u64,
        column: u64,
        key: String,
        source: PassphraseError,
    },
    /// `environment:` is neither a list of environment names nor an environment definition.
    #[error("{}: `environment` must be a list of ESC environment names or a mapping with `imports`", path.display())]
    BadEnvironment { path: PathBuf },
    /// No `Pulumi.yaml` (or `Pulumi.yml`) in the directory.
    #[error(
        "no Pulumi.yaml project file found in {}; run stackwire from a Pulumi project directory or pass the fully qualified stack name (organization/project/stack)", dir.display()
    )]
    NoProject { dir: PathBuf },
    /// The project file has no usable `name:`.
    #[error("{}: project file has no `name`", path.display())]
    NoProjectName { path: PathBuf },
}

/// `:line:column` when known.
fn at(line: u64, column: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

/// Options matching Go's `yaml.v3` as pulumi uses it: only `true`/`false` are booleans, and
/// `0755` is octal (Go's `strconv.ParseInt(s, 0, 64)`). Snippets are off so no file text leaks.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        with_snippet: false,
    }
}

fn parse_yaml<T: for<'de> Deserialize<'de>>(
    path: &Path,
    text: &str,
) -> Result<Option<T>, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_saphyr::from_str_with_options::<Option<T>>(text, yaml_options()).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        ConfigError::Yaml {
            path: path.to_path_buf(),
            line,
            column,
            message: yaml_message(&e, line, column),
        }
    })
}

/// The parser's user-facing message, without the position it appends (the error leads with it).
pub(super) fn yaml_message(e: &serde_saphyr::Error, line: u64, column: u64) -> String {
    let message = e
        .without_snippet()
        .render_with_formatter(&serde_saphyr::UserMessageFormatter);
    let suffix = format!(" at line {line}, column {column}");
    message
        .strip_suffix(&suffix)
        .map_or_else(|| message.clone(), str::to_owned)
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| ConfigError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// One top-level `config:` entry, as written.
#[derive(Clone, Debug)]
struct Entry {
    key: String,
    value: Json,
    /// Line and column of the key.
    key_at: (u64, u64),
    /// Line and column of the value.
    value_at: (u64, u64),
}

/// A parsed `Pulumi.<stack>.yaml`.
#[derive(Clone, Debug)]
pub(crate) struct StackConfigFile {
    /// The file read.
    pub(crate) path: PathBuf,
    /// `encryptionsalt:` — the passphrase provider's salt string (empty counts as unset).
    pub(crate) encryptionsalt: Option<String>,
    /// `secretsprovider:` — set for providers other than the passphrase (`awskms://…`, …).
    pub(crate) secretsprovider: Option<String>,
    /// `environment:` — names of the imported ESC environments, in order. Their values are
    /// resolved by Pulumi Cloud, so only the `pulumi` binary can read them.
    pub(crate) environment: Vec<String>,
    /// Whether `environment:` is a definition with more than `imports` (inline `values:`…),
    /// which likewise only the `pulumi` binary can evaluate.
    pub(crate) environment_inline: bool,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct RawStack {
    #[serde(default)]
    encryptionsalt: Option<String>,
    #[serde(default)]
    secretsprovider: Option<String>,
    // `encryptedkey` (a cloud provider's data key) is accepted and not needed: such stacks
    // are read through the pulumi binary.
    #[serde(default, rename = "encryptedkey")]
    _encryptedkey: serde::de::IgnoredAny,
    #[serde(default)]
    environment: Option<Json>,
    #[serde(default)]
    config: Option<IndexMap<Spanned<String>, Spanned<Json>>>,
}

/// Read a `Pulumi.<stack>.yaml`. An empty file is an empty config, as in pulumi.
pub(crate) fn load(path: &Path) -> Result<StackConfigFile, ConfigError> {
    let text = read_text(path)?;
    let raw: Option<RawStack> = parse_yaml(path, &text)?;
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let Some(raw) = raw else {
        return Ok(StackConfigFile {
            path: path.to_path_buf(),
            encryptionsalt: None,
            secretsprovider: None,
            environment: Vec::new(),
            environment_inline: false,
            entries: Vec::new(),
        });
    };
    let (environment, environment_inline) = match raw.environment {
        None | Some(Json::Null) => (Vec::new(), false),
        Some(env) => environment(&env).ok_or_else(|| ConfigError::BadEnvironment {
            path: path.to_path_buf(),
        })?,
    };
    let entries = raw
        .config
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| Entry {
            key_at: (key.referenced.line(), key.referenced.column()),
            value_at: (value.referenced.line(), value.referenced.column()),
            key: key.value,
            value: value.value,
        })
        .collect();
    Ok(StackConfigFile {
        path: path.to_path_buf(),
        encryptionsalt: non_empty(raw.encryptionsalt),
        secretsprovider: non_empty(raw.secretsprovider),
        environment,
        environment_inline,
        entries,
    })
}

/// `environment: [a, b]` or `environment: {imports: [a, {b: {merge: false}}], values: …}` →
/// (import names, whether there is more than `imports`).
fn environment(env: &Json) -> Option<(Vec<String>, bool)> {
    let name = |item: &Json| match item {
        Json::String(s) => Some(s.clone()),
        // `- name: {merge: false}`
        Json::Object(map) if map.len() == 1 => map.keys().next().cloned(),
        _ => None,
    };
    match env {
        Json::Array(items) => Some((items.iter().map(name).collect::<Option<_>>()?, false)),
        Json::Object(map) => {
            let imports = match map.get("imports") {
                None | Some(Json::Null) => Vec::new(),
                Some(Json::Array(items)) => items.iter().map(name).collect::<Option<_>>()?,
                Some(_) => return None,
            };
            Some((imports, map.keys().any(|k| k != "imports")))
        }
        _ => None,
    }
}

/// `{secure: "<ciphertext>"}` (a mapping with that single string key).
fn secure(value: &Json) -> Option<&str> {
    match value {
        Json::Object(map) if map.len() == 1 => map.get("secure").and_then(Json::as_str),
        _ => None,
    }
}

/// A number as Go's `encoding/json` prints the int64/uint64/float64 yaml.v3 decoded.
fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        crate::gojson::float(n.as_f64().unwrap_or(f64::NAN))
    }
}

impl StackConfigFile {
    /// Whether any value, at any depth, is `secure:`.
    pub(crate) fn has_secure_values(&self) -> bool {
        fn walk(v: &Json) -> bool {
            secure(v).is_some()
                || match v {
                    Json::Array(items) => items.iter().any(walk),
                    Json::Object(map) => map.values().any(walk),
                    _ => false,
                }
        }
        self.entries.iter().any(|e| walk(&e.value))
    }

    /// The config as `ns:key` → value. Bare keys get `project`'s namespace; `secure:` values are
    /// decrypted with `unseal` (else left [`Value::Sealed`]) and wrapped in [`Value::Secret`].
    /// Top-level scalars are [`Value::String`] (`8080`, `true`), as pulumi stores config;
    /// values inside objects and lists keep their YAML types.
    pub(crate) fn values(
        &self,
        project: &str,
        unseal: Option<&Crypter>,
    ) -> Result<BTreeMap<String, Value>, ConfigError> {
        let mut out = BTreeMap::new();
        let mut spelled: BTreeMap<String, &str> = BTreeMap::new();
        for entry in &self.entries {
            let key = self.normalise_key(entry, project)?;
            if let Some(other) = spelled.insert(key.clone(), &entry.key) {
                return Err(ConfigError::DuplicateKey {
                    path: self.path.clone(),
                    line: entry.key_at.0,
                    column: entry.key_at.1,
                    key: entry.key.clone(),
                    other: other.to_owned(),
                });
            }
            let value = match &entry.value {
                Json::String(s) => Value::String(s.clone()),
                Json::Bool(b) => Value::String(b.to_string()),
                Json::Number(n) => Value::String(go_number(n)),
                Json::Null => Value::Null,
                nested => self.convert(nested, entry, unseal)?,
            };
            out.insert(key, value);
        }
        Ok(out)
    }

    fn normalise_key(&self, entry: &Entry, project: &str) -> Result<String, ConfigError> {
        let bad = |reason: &str| ConfigError::BadKey {
            path: self.path.clone(),
            line: entry.key_at.0,
            column: entry.key_at.1,
            key: entry.key.clone(),
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = entry.key.split(':').collect();
        match parts.as_slice() {
            [name] if project.is_empty() => Err(bad(&format!(
                "has no namespace and the project is unknown; write `<project>:{name}`"
            ))),
            [name] => Ok(format!("{project}:{name}")),
            [_, _] => Ok(entry.key.clone()),
            [ns, "config", name] if !ns.is_empty() && !name.is_empty() => {
                Ok(format!("{ns}:{name}"))
            }
            _ => Err(bad("should be of the form `<namespace>:<name>`")),
        }
    }

    fn convert(
        &self,
        json: &Json,
        entry: &Entry,
        unseal: Option<&Crypter>,
    ) -> Result<Value, ConfigError> {
        if let Some(ciphertext) = secure(json) {
            let plain = match unseal {
                None => Value::Sealed,
                Some(crypter) => {
                    Value::String(crypter.decrypt_str(ciphertext).map_err(|source| {
                        ConfigError::Decrypt {
                            path: self.path.clone(),
                            line: entry.value_at.0,
                            column: entry.value_at.1,
                            key: entry.key.clone(),
                            source,
                        }
                    })?)
                }
            };
            return Ok(Value::Secret(Box::new(plain)));
        }
        Ok(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.convert(v, entry, unseal))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.convert(v, entry, unseal)?)))
                    .collect::<Result<_, ConfigError>>()?,
            ),
        })
    }
}

/// What stackwire reads from `Pulumi.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProjectFile {
    /// The file read (`Pulumi.yaml` or `Pulumi.yml`).
    pub(crate) path: PathBuf,
    /// `name:`.
    pub(crate) name: String,
    /// `backend.url`, if set.
    pub(crate) backend_url: Option<String>,
    /// Where `Pulumi.<stack>.yaml` files live: `stackConfigDir:` (or the legacy string `config:`)
    /// resolved against the project directory, else the project directory.
    pub(crate) stack_config_dir: PathBuf,
}

impl ProjectFile {
    /// `<stack_config_dir>/Pulumi.<stack>.yaml`; a qualified `org/project/stack` uses its last part.
    pub(crate) fn stack_config_path(&self, stack: &str) -> PathBuf {
        let short = stack.rsplit('/').next().unwrap_or(stack);
        self.stack_config_dir.join(format!("Pulumi.{short}.yaml"))
    }
}

#[derive(Deserialize)]
struct RawProject {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    backend: Option<RawBackend>,
    #[serde(default, rename = "stackConfigDir")]
    stack_config_dir: Option<String>,
    #[serde(default)]
    config: Option<Json>,
}

#[derive(Deserialize)]
struct RawBackend {
    #[serde(default)]
    url: Option<String>,
}

/// Read `Pulumi.yaml` (or `Pulumi.yml`) in `project_dir`.
pub(crate) fn project_file(project_dir: &Path) -> Result<ProjectFile, ConfigError> {
    let path = ["Pulumi.yaml", "Pulumi.yml"]
        .iter()
        .map(|name| project_dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| ConfigError::NoProject {
            dir: project_dir.to_path_buf(),
        })?;
    let text = read_text(&path)?;
    let raw: Option<RawProject> = parse_yaml(&path, &text)?;
    let Some(raw) = raw else {
        return Err(ConfigError::NoProjectName { path });
    };
    let Some(name) = raw.name.filter(|n| !n.trim().is_empty()) else {
        return Err(ConfigError::NoProjectName { path });
    };
    let dir = raw
        .stack_config_dir
        .or(match raw.config {
            Some(Json::String(dir)) => Some(dir),
            _ => None,
        })
        .filter(|d| !d.is_empty());
    Ok(ProjectFile {
        name,
        backend_url: raw.backend.and_then(|b| b.url).filter(|u| !u.is_empty()),
        stack_config_dir: dir.map_or_else(|| project_dir.to_path_buf(), |d| project_dir.join(d)),
        path,
    })
}

/// The project's `name:` and `backend.url` from `Pulumi.yaml` (or `Pulumi.yml`) in `project_dir`.
pub(crate) fn project_name(project_dir: &Path) -> Result<(String, Option<String>), ConfigError> {
    project_file(project_dir).map(|p| (p.name, p.backend_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &str = "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==";
    const SECRET: &str = "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn values_follow_pulumi() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "Pulumi.dev.yaml",
            &format!(
                "\u{feff}encryptionsalt: {SALT}\n\
                 config:\n\
                 \x20 aws:region: us-east-1\n\
                 \x20 port: 8080\n\
                 \x20 web:debug: true\n\
                 \x20 web:ratio: 1.50\n\
                 \x20 web:mode: 0755\n\
                 \x20 web:answer: yes\n\
                 \x20 web:zip: '02134'\n\
                 \x20 kube:config:context: prod\n\
                 \x20 web:empty:\n\
                 \x20 web:password:\n\
                 \x20   secure: {SECRET}\n\
                 \x20 web:db:\n\
                 \x20   host: db.internal\n\
                 \x20   port: 5432\n\
                 \x20   tls: false\n\
                 \x20   users: [a, {{secure: {SECRET}}}]\n\
                 \x20   secure: not-a-secret-because-not-alone\n"
            ),
        );
        let file = load(&path).unwrap();
        assert_eq!(file.encryptionsalt.as_deref(), Some(SALT));
        assert_eq!(file.secretsprovider, None);
        assert!(file.has_secure_values());
        assert!(file.environment.is_empty() && !file.environment_inline);

        let sealed = file.values("web", None).unwrap();
        assert_eq!(sealed["aws:region"], s("us-east-1"));
        assert_eq!(sealed["web:port"], s("8080"));
        assert_eq!(sealed["web:port"].stringify().as_deref(), Some("8080"));
        assert_eq!(sealed["web:debug"], s("true"));
        assert_eq!(sealed["web:ratio"], s("1.5"));
        assert_eq!(
            sealed["web:mode"],
            s("493"),
            "yaml.v3 reads a leading 0 as octal"
        );
        assert_eq!(
            sealed["web:answer"],
            s("yes"),
            "only true/false are booleans"
        );
        assert_eq!(sealed["web:zip"], s("02134"));
        assert_eq!(sealed["kube:context"], s("prod"));
        assert_eq!(sealed["web:empty"], Value::Null);
        assert_eq!(
            sealed["web:password"],
            Value::Secret(Box::new(Value::Sealed))
        );
        let Value::Object(db) = &sealed["web:db"] else {
            panic!("{:?}", sealed["web:db"])
        };
        assert_eq!(db["port"], Value::Number(5432.0));
        assert_eq!(db["tls"], Value::Bool(false));
        assert_eq!(db["secure"], s("not-a-secret-because-not-alone"));
        assert_eq!(
            db["users"],
            Value::Array(vec![s("a"), Value::Secret(Box::new(Value::Sealed))])
        );
        assert!(sealed["web:db"].contains_sealed());

        // The public test vector's crypter (`TestConfigRoundtripComments`), derived once for all tests.
        assert_eq!(file.encryptionsalt.as_deref(), Some(SALT));
        let crypter = crate::state::passphrase::tests::test_crypter();
        let open = file.values("web", Some(crypter)).unwrap();
        assert_eq!(
            open["web:password"],
            Value::Secret(Box::new(s("secret-value")))
        );
        assert_eq!(
            open["web:password"].stringify().as_deref(),
            Some("secret-value")
        );
        let Value::Object(db) = &open["web:db"] else {
            panic!()
        };
        assert_eq!(
            db["users"],
            Value::Array(vec![s("a"), Value::Secret(Box::new(s("secret-value")))])
        );
        assert_eq!(
            open["web:db"].stringify().as_deref(),
            Some(
                r#"{"host":"db.internal","port":5432,"secure":"not-a-secret-because-not-alone","tls":false,"users":["a","secret-value"]}"#
            )
        );

        // A value from another key fails, naming the file, line and key but not the secret.
        let other = write(
            dir.path(),
            "Pulumi.other.yaml",
            "config:\n  web:x: 1\n  web:pw:\n    secure: v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GQ==\n",
        );
        let err = load(&other)
            .unwrap()
            .values("web", Some(crypter))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                ConfigError::Decrypt {
                    line: 4,
                    column: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("Pulumi.other.yaml:4:5:") && msg.contains("`web:pw`"),
            "{msg}"
        );
    }

    #[test]
    fn keys_and_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let dup = write(
            dir.path(),
            "Pulumi.a.yaml",
            "config:\n  aws:region: a\n  aws:config:region: b\n",
        );
        assert!(matches!(
            load(&dup).unwrap().values("p", None),
            Err(ConfigError::DuplicateKey { line: 3, .. })
        ));
        let dup = write(
            dir.path(),
            "Pulumi.b.yaml",
            "config:\n  p:name: a\n  name: b\n",
        );
        assert!(matches!(
            load(&dup).unwrap().values("p", None),
            Err(ConfigError::DuplicateKey { .. })
        ));
        let bad = write(dir.path(), "Pulumi.c.yaml", "config:\n  a:b:c: x\n");
        let err = load(&bad).unwrap().values("p", None).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::BadKey {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        let bare = write(dir.path(), "Pulumi.d.yaml", "config:\n  name: x\n");
        assert!(matches!(
            load(&bare).unwrap().values("", None),
            Err(ConfigError::BadKey { .. })
        ));

        for (name, text) in [
            ("Pulumi.e.yaml", ""),
            ("Pulumi.f.yaml", "# only a comment\n"),
            ("Pulumi.g.yaml", "config:\n"),
        ] {
            let file = load(&write(dir.path(), name, text)).unwrap();
            assert!(file.values("p", None).unwrap().is_empty(), "{name}");
            assert!(!file.has_secure_values());
        }

        let yaml = write(dir.path(), "Pulumi.h.yaml", "config:\n  a: [1,\n");
        let err = load(&yaml).unwrap_err();
        assert!(
            matches!(err, ConfigError::Yaml { line: 2.., .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("Pulumi.h.yaml:"), "{err}");
        let dup_yaml = write(dir.path(), "Pulumi.i.yaml", "config:\n  a: 1\n  a: 2\n");
        assert!(matches!(load(&dup_yaml), Err(ConfigError::Yaml { .. })));
        let list = write(dir.path(), "Pulumi.j.yaml", "- a\n");
        assert!(matches!(load(&list), Err(ConfigError::Yaml { .. })));
        assert!(matches!(
            load(&dir.path().join("missing.yaml")),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn providers_and_environments() {
        let dir = tempfile::tempdir().unwrap();
        let kms = write(
            dir.path(),
            "Pulumi.kms.yaml",
            "secretsprovider: awskms://alias/x\nencryptedkey: AQID\nencryptionsalt: \"\"\nenvironment:\n  - team/dev\n  - shared\n",
        );
        let file = load(&kms).unwrap();
        assert_eq!(file.secretsprovider.as_deref(), Some("awskms://alias/x"));
        assert_eq!(file.encryptionsalt, None);
        assert_eq!(
            (file.environment, file.environment_inline),
            (vec!["team/dev".to_owned(), "shared".to_owned()], false)
        );

        let def = write(
            dir.path(),
            "Pulumi.def.yaml",
            "environment:\n  imports:\n    - base\n    - extra: {merge: false}\n  values:\n    x: 1\n",
        );
        let file = load(&def).unwrap();
        assert_eq!(
            (file.environment, file.environment_inline),
            (vec!["base".to_owned(), "extra".to_owned()], true)
        );
        let bad = write(dir.path(), "Pulumi.bad.yaml", "environment: 7\n");
        assert!(matches!(
            load(&bad),
            Err(ConfigError::BadEnvironment { .. })
        ));
    }

    #[test]
    fn project_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            project_name(dir.path()),
            Err(ConfigError::NoProject { .. })
        ));
        write(dir.path(), "Pulumi.yml", "name: web\nruntime: nodejs\n");
        assert_eq!(project_name(dir.path()).unwrap(), ("web".to_owned(), None));
        write(
            dir.path(),
            "Pulumi.yaml",
            "name: api\nruntime:\n  name: python\nbackend:\n  url: file://~/state\nstackConfigDir: cfg\n",
        );
        assert_eq!(
            project_name(dir.path()).unwrap(),
            ("api".to_owned(), Some("file://~/state".to_owned()))
        );
        let project = project_file(dir.path()).unwrap();
        assert_eq!(
            project.stack_config_path("organization/api/dev"),
            dir.path().join("cfg/Pulumi.dev.yaml")
        );
        write(dir.path(), "Pulumi.yaml", "runtime: go\n");
        assert!(matches!(
            project_name(dir.path()),
            Err(ConfigError::NoProjectName { .. })
        ));
        write(dir.path(), "Pulumi.yaml", "name: [\n");
        let err = project_name(dir.path()).unwrap_err();
        assert!(
            matches!(err, ConfigError::Yaml { .. }) && err.to_string().contains("Pulumi.yaml"),
            "{err}"
        );
    }
}
