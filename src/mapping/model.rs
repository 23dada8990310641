//! The mapping file's serde model: the raw shape as written, and the validated entry types.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::value::{Segment, parse_path};

/// One mapped variable.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) source: Source,
    /// Absent → error (default) or left out.
    pub(crate) required: bool,
    /// Forced secret by the mapping.
    pub(crate) secret: bool,
    pub(crate) line: u64,
    pub(crate) column: u64,
}

/// Where a variable's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Source {
    /// A stack output, with a path inside it.
    Output(Vec<Segment>),
    /// A stack config key (`proj:key`, or `key` in the project's namespace), dots reach inside.
    Config(String),
    /// A tera template over `outputs`, `config` and the variables mapped above it (`env`).
    Template(String),
    /// A literal.
    Value(String),
}

/// A file to write.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FileTarget {
    /// Absolute path.
    pub(crate) path: PathBuf,
    /// As written in the mapping (relative to the repository root).
    pub(crate) rel: String,
    /// Tera template (relative to the repository root); none → dotenv.
    pub(crate) template: Option<String>,
    pub(crate) line: u64,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMapping {
    #[serde(default)]
    pub(super) stack: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) project: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) backend: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) env: OrderedEntries,
    #[serde(default)]
    pub(super) files: Vec<RawFile>,
    #[serde(default)]
    pub(super) github: Option<super::github::RawGithub>,
    #[serde(default)]
    pub(super) health: Vec<Spanned<super::health::RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) path: Spanned<String>,
    #[serde(default)]
    pub(super) template: Option<Spanned<String>>,
}

/// `env:` entries in file order (a map whose order matters).
#[derive(Default)]
pub(super) struct OrderedEntries(pub(super) Vec<(Spanned<String>, Spanned<RawEntry>)>);

impl<'de> Deserialize<'de> for OrderedEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of variable names to outputs")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OrderedEntries::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    out.push((key, map.next_value()?));
                }
                Ok(OrderedEntries(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An entry as written: `NAME: output.path` or `NAME: { output | template | config | value, … }`.
pub(super) enum RawEntry {
    Short(String),
    Long(LongEntry),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LongEntry {
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    value: Option<Literal>,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    secret: Option<bool>,
}

/// A literal value: YAML scalars of any type, kept as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Literal {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an output name (`instanceIp`, `db.host`) or a map with one of `output`, `template`, `config`, `value`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawEntry::Short(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                LongEntry::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawEntry::Long)
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl RawEntry {
    /// The validated source, `required` and `secret` flags, or a message.
    pub(super) fn into_source(self) -> Result<(Source, bool, bool), String> {
        let long = match self {
            Self::Short(path) => return Ok((Source::Output(parse_path(&path)?), true, false)),
            Self::Long(long) => long,
        };
        let mut sources = Vec::new();
        if let Some(path) = long.output {
            sources.push(Source::Output(parse_path(&path)?));
        }
        if let Some(t) = long.template {
            sources.push(Source::Template(t));
        }
        if let Some(key) = long.config {
            if key.trim().is_empty() {
                return Err("`config` key is empty".into());
            }
            sources.push(Source::Config(key));
        }
        if let Some(v) = long.value {
            sources.push(Source::Value(match v {
                Literal::Bool(b) => b.to_string(),
                Literal::Int(n) => n.to_string(),
                Literal::Float(f) => crate::gojson::float(f),
                Literal::Text(s) => s,
            }));
        }
        match sources.len() {
            1 => Ok((
                sources.remove(0),
                long.required.unwrap_or(true),
                long.secret.unwrap_or(false),
            )),
            0 => Err("give one of `output`, `template`, `config` or `value`".into()),
            _ => Err("give only one of `output`, `template`, `config` or `value`".into()),
        }
    }
}
