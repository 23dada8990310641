//! Pulumi state documents: the `pulumi stack export` envelope and the DIY checkpoint file.
//!
//! Reading is lazy where it matters: a 60 MB state is scanned, not parsed ([`scan`], in one
//! pass). The envelope, `checkpoint` and `deployment` objects are walked member by member, and
//! of each `resources` element only its own members are walked, to read its `type` (a substring
//! search would not do: every child of the stack names `pulumi:pulumi:Stack` in its `parent`
//! URN). Only the small parts stackwire uses (`version`, `stack`, `manifest`,
//! `secrets_providers`) and `pulumi:pulumi:Stack` resources go through serde_json, and only the
//! root Stack resource's outputs are turned into [`Value`]s. Secrets are resolved through an
//! [`Unseal`]: kept sealed, base64 (`b64` provider) or passphrase-decrypted. Reading the DIY
//! backend layout, decrypting and stack config files live in submodules.
//!
//! Validation follows from that. The levels walked (the top level, `checkpoint`, `deployment`,
//! the `resources` array and each resource's own members) are checked as strict JSON, and the
//! parts stackwire reads are fully parsed, their types checked. Everything else (`features`,
//! other resources' `inputs`, `outputs`, `parent` and `delete`, `pending_operations`, …) is
//! checked only structurally: strings closed, brackets balanced and of matching kinds. A
//! document broken there in other ways (a bad escape or number, a missing comma, a `delete`
//! that is not a boolean, deep in a resource stackwire does not use) is read without an error;
//! pulumi never writes one.
//!
//! What the pulumi binary just printed ([`parse_pulumi_output`]) is trusted one step further: a
//! resource laid out as `json.MarshalIndent` lays it out is skipped by its layout (the line that
//! closes it, found with `memchr::memmem`) rather than walked, and its own `type` read from its
//! member lines; anything else, and the Stack resource, is read as above.

pub(crate) mod diy;
pub(crate) mod passphrase;
mod scan;
pub(crate) mod stack_config;
pub(crate) mod workspace;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use self::scan::{Elements, Members, ScanError, Span};
use crate::value::{ConvertError, Unseal, Value};

/// Newest export/checkpoint version this reader understands.
const MAX_VERSION: i64 = 4;

/// The type of the resource whose outputs are the stack outputs.
const STACK_TYPE: &str = "pulumi:pulumi:Stack";

/// Why a state document could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Broken JSON (truncated, unbalanced, …), or a field stackwire reads of the wrong type.
    #[error("not valid JSON: {what} at line {line} column {column}")]
    Malformed {
        what: String,
        line: usize,
        column: usize,
    },
    #[error(
        "not a Pulumi state: expected a `pulumi stack export` document ({{\"version\", \"deployment\"}}) or a DIY checkpoint ({{\"version\", \"checkpoint\"}})"
    )]
    UnknownShape,
    #[error(
        "state version {0} is newer than stackwire understands (at most {MAX_VERSION}); update stackwire"
    )]
    TooNew(i64),
    #[error("state version {0} is not a valid version")]
    BadVersion(i64),
    #[error("secret in {0}")]
    Secret(#[from] ConvertError),
}

impl StateError {
    /// A [`StateError::Malformed`] at byte `offset` of `text`.
    fn at(text: &str, offset: usize, what: impl Into<String>) -> Self {
        let offset = offset.min(text.len());
        let before = &text.as_bytes()[..offset];
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        StateError::Malformed {
            what: what.into(),
            line: before.iter().filter(|&&c| c == b'\n').count() + 1,
            column: offset - line_start + 1,
        }
    }

    fn scan(text: &str, e: ScanError) -> Self {
        Self::at(text, e.offset, e.what)
    }

    /// A serde_json error from parsing `span` alone, placed in the whole `text`.
    fn serde(text: &str, span: Span, e: &serde_json::Error) -> Self {
        let part = span.of(text);
        // serde counts lines from 1 (0: no position) and columns from 1.
        let offset = match e.line().checked_sub(2) {
            None if e.line() == 0 => 0,
            None => e.column().saturating_sub(1),
            Some(newlines) => {
                let line_start = part
                    .bytes()
                    .enumerate()
                    .filter(|&(_, c)| c == b'\n')
                    .nth(newlines)
                    .map_or(part.len(), |(i, _)| i + 1);
                line_start + e.column().saturating_sub(1)
            }
        };
        Self::at(
            text,
            span.start + offset.min(part.len()),
            scan::serde_message(e),
        )
    }

    /// `field` (at `span`) is not the `expected` kind of value.
    fn wrong_type(text: &str, span: Span, field: &str, expected: &str) -> Self {
        let found = scan::kind(text.as_bytes().get(span.start).copied().unwrap_or(b' '));
        Self::at(
            text,
            span.start,
            format!("`{field}` is {found}, expected {expected}"),
        )
    }
}

/// The secrets provider recorded in a deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecretsProvider {
    /// `passphrase`, with its salt string (`v1:<salt>:v1:<nonce>:<ct>`).
    Passphrase { salt: String },
    /// `b64`: ciphertext is base64 of the JSON text (pulumi's test provider).
    Base64,
    /// Any other provider (`service`, `awskms`, `azurekeyvault`, …): only the CLI can decrypt.
    Other(String),
}

/// What a state document says about a stack, with the stack outputs not yet converted.
pub(crate) struct Deployment<'a> {
    /// Document version (export or checkpoint).
    pub(crate) version: i64,
    /// Fully qualified or bare stack name, for checkpoints.
    pub(crate) stack: Option<String>,
    /// `manifest.time`, when deployed.
    pub(crate) time: Option<String>,
    pub(crate) secrets: Option<SecretsProvider>,
    /// Number of resources, as `pulumi stack ls` counts them.
    pub(crate) resource_count: usize,
    /// Raw `outputs` of the root `pulumi:pulumi:Stack` resource.
    stack_outputs: Option<&'a RawValue>,
}

/// A resource entry with only what stackwire reads parsed; the rest stays raw.
#[derive(Deserialize)]
struct RawResource<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default, borrow)]
    parent: Option<Cow<'a, str>>,
    #[serde(default)]
    delete: bool,
    #[serde(default, borrow)]
    outputs: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    time: Option<String>,
}

#[derive(Deserialize)]
struct ProviderDoc {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    state: Option<serde_json::Value>,
}

/// Parse a small part of the document (at `span`) with serde_json.
fn parse_span<'a, T: Deserialize<'a>>(text: &'a str, span: Span) -> Result<T, StateError> {
    serde_json::from_str(span.of(text)).map_err(|e| StateError::serde(text, span, &e))
}

/// The value starting at `start`, skipped: its span.
fn skip(text: &str, start: usize) -> Result<Span, StateError> {
    let end = scan::value_end(text.as_bytes(), start).map_err(|e| StateError::scan(text, e))?;
    Ok(Span { start, end })
}

fn duplicate(text: &str, at: usize, key: &str) -> StateError {
    StateError::at(text, at, format!("duplicate field `{key}`"))
}

/// What a deployment object (`deployment`, `latest`) holds that stackwire reads.
struct Body<'a> {
    time: Option<String>,
    secrets: Option<SecretsProvider>,
    resource_count: usize,
    stack_outputs: Option<&'a RawValue>,
}

/// What part of a document holds, or why it cannot be read. Broken JSON stops the walk at once;
/// this is for the content, reported only once the document is known to be one stackwire reads
/// (a newer version may hold anything there).
type Content<T> = Result<T, StateError>;

/// Keep the first content error.
fn keep(first: &mut Option<StateError>, e: StateError) {
    first.get_or_insert(e);
}

/// Walk the deployment object (or `null`) at `start`, named `name`: the offset past it, and what
/// it holds (`None` for `null`).
fn walk_body<'a>(
    text: &'a str,
    start: usize,
    name: &str,
    layout: Layout,
) -> Result<(usize, Option<Content<Body<'a>>>), StateError> {
    if text.as_bytes().get(start) != Some(&b'{') {
        let span = skip(text, start)?;
        let body = (span.of(text) != "null")
            .then(|| Err(StateError::wrong_type(text, span, name, "an object")));
        return Ok((span.end, body));
    }
    let mut body = Body {
        time: None,
        secrets: None,
        resource_count: 0,
        stack_outputs: None,
    };
    let mut first_error = None;
    let mut seen = [false; 3];
    let mut walk = Members::new(text, start);
    while let Some((key, at)) = walk.next_member().map_err(|e| StateError::scan(text, e))? {
        let Some(i) = ["manifest", "secrets_providers", "resources"]
            .iter()
            .position(|name| *name == key)
        else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            keep(&mut first_error, duplicate(text, at, &key));
            continue;
        }
        if i == 2 {
            let (end, resources) = scan_resources(text, at, layout)?;
            walk.resume(end);
            match resources {
                Ok(r) => (body.resource_count, body.stack_outputs) = (r.count, r.stack_outputs),
                Err(e) => keep(&mut first_error, e),
            }
            continue;
        }
        let span = skip(text, at)?;
        walk.resume(span.end);
        let read = if i == 0 {
            parse_span::<Option<Manifest>>(text, span).map(|m| {
                body.time = m
                    .and_then(|m| m.time)
                    .filter(|t| !t.starts_with("0001-01-01"));
            })
        } else {
            parse_span::<Option<ProviderDoc>>(text, span).map(|p| {
                body.secrets = p.map(|p| provider(&p));
            })
        };
        if let Err(e) = read {
            keep(&mut first_error, e);
        }
    }
    let content = match first_error {
        Some(e) => Err(e),
        None => Ok(body),
    };
    Ok((walk.end(), Some(content)))
}

/// What stackwire reads from the `resources` array.
struct Resources<'a> {
    count: usize,
    /// `outputs` of the root `pulumi:pulumi:Stack` resource.
    stack_outputs: Option<&'a RawValue>,
}

/// Walk the `resources` array at `start`: the offset past it, and the number of resources and
/// the root Stack resource's outputs.
///
/// Each element is walked member by member (that finds its end); only elements whose `type` is
/// `pulumi:pulumi:Stack`, or not a plain string, are parsed, as [`RawResource`]s.
fn scan_resources(
    text: &str,
    start: usize,
    layout: Layout,
) -> Result<(usize, Content<Resources<'_>>), StateError> {
    let bytes = text.as_bytes();
    if bytes.get(start) != Some(&b'[') {
        let span = skip(text, start)?;
        let wrong = StateError::wrong_type(text, span, "resources", "an array");
        return Ok((span.end, Err(wrong)));
    }
    let mut count = 0;
    let mut first_error = None;
    // The first root Stack resource, once found: its outputs.
    let mut root: Option<Option<&RawValue>> = None;
    let mut elements = Elements::new(bytes, start);
    while let Some(start) = elements
        .next_start()
        .map_err(|e| StateError::scan(text, e))?
    {
        count += 1;
        if bytes.get(start) != Some(&b'{') {
            let span = skip(text, start)?;
            elements.resume(span.end);
            let wrong = StateError::wrong_type(text, span, "resources[]", "an object");
            keep(&mut first_error, wrong);
            continue;
        }
        let mut ty = None;
        let mut types = 0;
        let indented = match layout {
            Layout::PulumiIndented => scan::indented_object(bytes, start),
            Layout::Any => None,
        };
        let element = if let Some(object) = indented {
            for value in object.members(bytes, "type") {
                let end = scan::string_end(bytes, value + 1).map_or(value, |(end, _)| end);
                ty = Some(Span { start: value, end });
                types += 1;
            }
            Span {
                start,
                end: object.end,
            }
        } else {
            let mut walk = Members::new(text, start);
            for member in &mut walk {
                let (key, value) = member.map_err(|e| StateError::scan(text, e))?;
                if key == "type" {
                    ty = Some(value);
                    types += 1;
                }
            }
            Span {
                start,
                end: walk.end(),
            }
        };
        elements.resume(element.end);
        // A plain string names the type as it is; anything else (missing, escaped, not a
        // string, given twice) is left to serde, to decode or to report.
        let plain = ty
            .filter(|_| types == 1)
            .map(|s| s.of(text))
            .filter(|t| t.len() >= 2 && t.starts_with('"') && !t.contains('\\'));
        if plain.is_some_and(|t| &t[1..t.len() - 1] != STACK_TYPE) {
            continue;
        }
        match parse_span::<RawResource<'_>>(text, element) {
            Ok(r) if r.ty == STACK_TYPE && r.parent.is_none() && !r.delete => {
                root.get_or_insert(r.outputs);
            }
            Ok(_) => {}
            Err(e) => keep(&mut first_error, e),
        }
    }
    let content = match first_error {
        Some(e) => Err(e),
        None => Ok(Resources {
            count,
            stack_outputs: root.flatten(),
        }),
    };
    Ok((elements.end(), content))
}

/// What the top level's `checkpoint` object holds.
struct CheckpointDoc<'a> {
    stack: Option<String>,
    latest: Option<Content<Body<'a>>>,
}

/// Walk the `checkpoint` object at `start`: the offset past it, and its `stack` and `latest`
/// (`None` for `null`).
fn walk_checkpoint<'a>(
    text: &'a str,
    start: usize,
    layout: Layout,
) -> Result<(usize, Option<CheckpointDoc<'a>>), StateError> {
    if text.as_bytes().get(start) != Some(&b'{') {
        let span = skip(text, start)?;
        if span.of(text) == "null" {
            return Ok((span.end, None));
        }
        return Err(StateError::wrong_type(
            text,
            span,
            "checkpoint",
            "an object",
        ));
    }
    let mut doc = CheckpointDoc {
        stack: None,
        latest: None,
    };
    let mut seen = [false; 2];
    let mut walk = Members::new(text, start);
    while let Some((key, at)) = walk.next_member().map_err(|e| StateError::scan(text, e))? {
        let Some(i) = ["stack", "latest"].iter().position(|name| *name == key) else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(duplicate(text, at, &key));
        }
        if i == 0 {
            let span = skip(text, at)?;
            walk.resume(span.end);
            doc.stack = parse_span(text, span)?;
        } else {
            let (end, latest) = walk_body(text, at, "latest", layout)?;
            walk.resume(end);
            doc.latest = latest;
        }
    }
    Ok((walk.end(), Some(doc)))
}

/// Parse an export document or a DIY checkpoint (any version 0–4).
///
/// One pass over the text: the envelope is walked member by member and descended into where
/// stackwire reads (`deployment`, `checkpoint`, `latest`, their `resources`); everything else is
/// skipped. Broken JSON is reported where it is met; what the deployment holds is reported only
/// after the envelope's shape and version are known to be ones stackwire reads.
pub(crate) fn parse(text: &str) -> Result<Deployment<'_>, StateError> {
    parse_laid_out(text, Layout::Any)
}

/// [`parse`] for what the pulumi binary itself just printed (`pulumi stack export`): the
/// resources other than the Stack are skipped by their layout ([`scan::indented_object`]: Go's
/// `json.MarshalIndent` puts each closing brace on a line indented as its opening one) instead
/// of being walked, about five times faster on a 1,000-resource export. Text not laid out so
/// (compact, hand-written) is walked as [`parse`] walks it; the Stack resource is parsed in full
/// either way.
pub(crate) fn parse_pulumi_output(text: &str) -> Result<Deployment<'_>, StateError> {
    parse_laid_out(text, Layout::PulumiIndented)
}

/// Whether the text may be trusted to be laid out as pulumi prints JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Any,
    PulumiIndented,
}

fn parse_laid_out(text: &str, layout: Layout) -> Result<Deployment<'_>, StateError> {
    let bytes = text.as_bytes();
    let start = scan::skip_ws(bytes, 0);
    match bytes.get(start) {
        None => return Err(StateError::at(text, start, "the document is empty")),
        Some(b'{') => {}
        Some(&c) => {
            // Not an object: say what it is, if it is JSON at all.
            skip(text, start)?;
            let what = format!("the document is {}, expected an object", scan::kind(c));
            return Err(StateError::at(text, start, what));
        }
    }
    let mut version: Option<i64> = None;
    let mut stack: Option<String> = None;
    let mut deployment = None;
    let mut checkpoint = None;
    let mut latest = None;
    let mut seen = [false; 5];
    let names = ["version", "deployment", "checkpoint", "stack", "latest"];
    let mut walk = Members::new(text, start);
    while let Some((key, at)) = walk.next_member().map_err(|e| StateError::scan(text, e))? {
        let Some(i) = names.iter().position(|name| *name == key) else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(duplicate(text, at, &key));
        }
        let end = match i {
            0 | 3 => {
                let span = skip(text, at)?;
                if i == 0 {
                    version = parse_span(text, span)?;
                } else {
                    stack = parse_span(text, span)?;
                }
                span.end
            }
            1 => {
                let (end, body) = walk_body(text, at, "deployment", layout)?;
                deployment = body;
                end
            }
            2 => {
                let (end, doc) = walk_checkpoint(text, at, layout)?;
                checkpoint = doc;
                end
            }
            _ => {
                let (end, body) = walk_body(text, at, "latest", layout)?;
                latest = body;
                end
            }
        };
        walk.resume(end);
    }
    let rest = scan::skip_ws(bytes, walk.end());
    if rest < bytes.len() {
        let what = "trailing characters after the document";
        return Err(StateError::at(text, rest, what));
    }
    let (version, stack, latest) = match (deployment, checkpoint) {
        (Some(dep), None) => (version.unwrap_or(3), None, Some(dep)),
        (None, Some(cp)) => (version.unwrap_or(0), cp.stack, cp.latest),
        (None, None) if version.is_some() => (version.unwrap_or(0), None, None),
        // Checkpoint version 0 has no wrapper: `{"stack", "latest"}`.
        (None, None) if stack.is_some() || latest.is_some() => (0, stack, latest),
        _ => return Err(StateError::UnknownShape),
    };
    if version > MAX_VERSION {
        return Err(StateError::TooNew(version));
    }
    if version < 0 {
        return Err(StateError::BadVersion(version));
    }
    // `"deployment": null` is how a never-deployed stack exports.
    let body = latest.transpose()?.unwrap_or(Body {
        time: None,
        secrets: None,
        resource_count: 0,
        stack_outputs: None,
    });
    Ok(Deployment {
        version,
        stack,
        time: body.time,
        secrets: body.secrets,
        resource_count: body.resource_count,
        stack_outputs: body.stack_outputs,
    })
}

fn provider(doc: &ProviderDoc) -> SecretsProvider {
    match doc.ty.as_str() {
        "passphrase" => SecretsProvider::Passphrase {
            salt: doc
                .state
                .as_ref()
                .and_then(|s| s.get("salt"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        "b64" => SecretsProvider::Base64,
        other => SecretsProvider::Other(other.to_owned()),
    }
}

impl Deployment<'_> {
    /// One line about the document, for `-v`: its kind, version, stack and size.
    pub(crate) fn describe(&self) -> String {
        let stack = self
            .stack
            .as_deref()
            .map(|s| format!(" of `{s}`"))
            .unwrap_or_default();
        format!(
            "state version {}{stack}, {} resources",
            self.version, self.resource_count
        )
    }

    /// Whether the stack outputs hold any `ciphertext` secret (decryption would be needed).
    pub(crate) fn outputs_have_ciphertext(&self) -> bool {
        // A cheap scan: the secret signature and a `ciphertext` key (a false positive only
        // means a passphrase is asked for without need).
        self.stack_outputs.is_some_and(|raw| {
            let text = raw.get();
            text.contains(crate::value::SIG_SECRET) && text.contains("\"ciphertext\"")
        })
    }

    /// The stack outputs, with secrets resolved by `unseal`.
    pub(crate) fn outputs(
        &self,
        unseal: &dyn Unseal,
    ) -> Result<BTreeMap<String, Value>, StateError> {
        let Some(raw) = self.stack_outputs else {
            return Ok(BTreeMap::new());
        };
        let json: serde_json::Value = serde_json::from_str(raw.get())?;
        match Value::from_state(&json, unseal, "outputs")? {
            Value::Object(map) => Ok(map),
            Value::Null => Ok(BTreeMap::new()),
            _ => Err(StateError::UnknownShape),
        }
    }
}

/// Unseals `b64` provider ciphertexts: base64 of the value's JSON text.
pub(crate) struct Base64Unseal;

impl Unseal for Base64Unseal {
    fn unseal(&self, ciphertext: &str) -> Result<Option<String>, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(ciphertext)
            .map_err(|e| format!("b64 ciphertext is not base64 ({e})"))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "b64 ciphertext is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::KeepSealed;

    const EXPORT: &str = r#"{"version":3,"deployment":{"manifest":{"time":"2026-01-02T03:04:05Z"},
        "secrets_providers":{"type":"b64","state":{}},
        "resources":[
          {"urn":"urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev","custom":false,"type":"pulumi:pulumi:Stack",
           "outputs":{"ip":"203.0.113.10","pw":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"Imh1bnRlcjIi"}}},
          {"urn":"urn:pulumi:dev::p::pulumi:providers:aws::default","custom":true,"type":"pulumi:providers:aws","id":"x"}]}}"#;

    #[test]
    fn export_outputs_and_secrets() {
        let dep = parse(EXPORT).unwrap();
        assert_eq!(dep.version, 3);
        assert_eq!(dep.resource_count, 2);
        assert_eq!(dep.secrets, Some(SecretsProvider::Base64));
        assert!(dep.outputs_have_ciphertext());
        let sealed = dep.outputs(&KeepSealed).unwrap();
        assert_eq!(sealed["pw"], Value::Secret(Box::new(Value::Sealed)));
        let open = dep.outputs(&Base64Unseal).unwrap();
        assert_eq!(
            open["pw"],
            Value::Secret(Box::new(Value::String("hunter2".into())))
        );
        assert_eq!(open["ip"], Value::String("203.0.113.10".into()));
    }

    #[test]
    fn checkpoint_forms() {
        let cp = format!(
            r#"{{"version":4,"features":["refreshBeforeUpdate"],"checkpoint":{{"stack":"organization/p/dev","latest":{}}}}}"#,
            &EXPORT[EXPORT.find("{\"manifest").unwrap()..EXPORT.len() - 1]
        );
        let dep = parse(&cp).unwrap();
        assert_eq!(dep.stack.as_deref(), Some("organization/p/dev"));
        assert_eq!(dep.outputs(&Base64Unseal).unwrap().len(), 2);
        let never = parse(r#"{"version":0,"checkpoint":{"stack":"organization/p/dev"}}"#).unwrap();
        assert!(never.outputs(&KeepSealed).unwrap().is_empty());
        let null = parse(r#"{"version":3,"deployment":null}"#).unwrap();
        assert!(null.outputs(&KeepSealed).unwrap().is_empty());
    }

    #[test]
    fn bad_documents_are_errors() {
        assert!(matches!(parse("{}"), Err(StateError::UnknownShape)));
        assert!(matches!(
            parse(r#"{"version":9,"deployment":{}}"#),
            Err(StateError::TooNew(9))
        ));
        assert!(matches!(
            parse(r#"{"version":3,"deployment":{"resources":7}}"#),
            Err(StateError::Malformed { .. })
        ));
        assert!(matches!(parse("[1,"), Err(StateError::Malformed { .. })));
    }

    /// The message of `parse(text)`'s error.
    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("{text}: parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn broken_json_is_reported_where_it_is() {
        for (text, message) in [
            (
                "",
                "not valid JSON: the document is empty at line 1 column 1",
            ),
            (
                "not json",
                "not valid JSON: expected a JSON value at line 1 column 1",
            ),
            (
                "  [1, 2]",
                "not valid JSON: the document is an array, expected an object at line 1 column 3",
            ),
            (
                "{\"version\": 3, oops",
                "not valid JSON: expected a string (an object key) at line 1 column 16",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"resources\": [",
                "not valid JSON: unexpected end of the document at line 1 column 45",
            ),
            (
                "{\"version\": 3,\n \"deployment\": {\"resources\": [{\"a\": \"b",
                "not valid JSON: unexpected end of the document inside a string at line 2 column 39",
            ),
            (
                "{\"version\": 3,\n \"deployment\": {\"resources\": [{\"a\": [}]}}",
                "not valid JSON: expected `]` or `,`, found `}` at line 2 column 38",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"resources\": [{},]}}",
                "not valid JSON: trailing comma at line 1 column 48",
            ),
            (
                "{\"version\": 3} {}",
                "not valid JSON: trailing characters after the document at line 1 column 16",
            ),
            (
                "{\"version\": 3, \"version\": 3}",
                "not valid JSON: duplicate field `version` at line 1 column 27",
            ),
            (
                "{\"version\": \"3\"}",
                "not valid JSON: invalid type: string \"3\", expected i64 at line 1 column 15",
            ),
            (
                "{\"version\": 3,\n \"deployment\": {\"resources\": 7}}",
                "not valid JSON: `resources` is a number, expected an array at line 2 column 30",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"resources\": null}}",
                "not valid JSON: `resources` is null, expected an array",
            ),
            (
                "{\"version\": 3, \"deployment\": [1]}",
                "not valid JSON: `deployment` is an array, expected an object",
            ),
            (
                "{\"version\": 4, \"checkpoint\": {\"latest\": \"x\"}}",
                "not valid JSON: `latest` is a string, expected an object",
            ),
            (
                "{\"version\": 4, \"checkpoint\": 7}",
                "not valid JSON: `checkpoint` is a number, expected an object",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"resources\": [{\"type\": 7}]}}",
                "not valid JSON: invalid type: integer `7`, expected a string at line 1 column 54",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"resources\": [{\"urn\": \"u\"}]}}",
                "not valid JSON: missing field `type` at line 1 column 56",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"resources\": [[\"pulumi:pulumi:Stack\"]]}}",
                "not valid JSON: `resources[]` is an array, expected an object",
            ),
            (
                "{\"version\": 3,\n \"deployment\": {\"manifest\": {\n  \"time\":\n 5}}}",
                "not valid JSON: invalid type: integer `5`, expected a string at line 4 column 2",
            ),
            (
                "{\"version\": 3, \"deployment\": {\"manifest\": {\"time\": 5}}}",
                "not valid JSON: invalid type: integer `5`, expected a string at line 1 column 52",
            ),
        ] {
            let got = error(text);
            assert!(got.starts_with(message), "{text}:\n  {got}\n  {message}");
        }
    }

    #[test]
    fn content_errors_wait_for_the_version() {
        // A newer version may hold anything in its deployment; its version is what is said.
        for body in [
            r#"{"resources": 7}"#,
            r#"{"resources": [{"type": 7}], "manifest": []}"#,
            r#"[]"#,
        ] {
            let text = format!(r#"{{"deployment": {body}, "version": 9}}"#);
            assert!(matches!(parse(&text), Err(StateError::TooNew(9))), "{text}");
        }
        // Broken JSON is broken whatever the version.
        assert!(matches!(
            parse(r#"{"version": 9, "deployment": {"resources": [}}"#),
            Err(StateError::Malformed { .. })
        ));
    }

    #[test]
    fn only_the_stack_resource_is_parsed() {
        // Other resources are checked for balanced strings and brackets only.
        let text = r#"{"version": 3, "deployment": {"resources": [
            {"type": "aws:s3:Bucket", "inputs": {"a": 01, "b": tru, "c" 1}, "delete": "x"},
            {"type": "pulumi:pulumi:Stack", "delete": true, "outputs": {"ip": "old"}},
            {"type": "pulumi:pulumi:Stack", "parent": "urn:x", "outputs": {"ip": "child"}},
            {"type": "pulumi:pulumi:Stack", "outputs": {"ip": "1.2.3.4"}},
            {"type": "pulumi:pulumi:Stack", "outputs": {"ip": "later"}}
        ]}}"#;
        let dep = parse(text).unwrap();
        assert_eq!(dep.resource_count, 5);
        let outputs = dep.outputs(&KeepSealed).unwrap();
        assert_eq!(outputs["ip"], Value::String("1.2.3.4".into()));
        // A type spelled with escapes is still the Stack type.
        let text = r#"{"version": 3, "deployment": {"resources": [
            {"type": "pulumi:pulumi:St\u0061ck", "outputs": {"ip": "escaped"}}]}}"#;
        let outputs = parse(text).unwrap().outputs(&KeepSealed).unwrap();
        assert_eq!(outputs["ip"], Value::String("escaped".into()));
        // Keys spelled with escapes are the keys they spell.
        let text = r#"{"vers\u0069on": 3, "deployment": {"res\u006furces": [
            {"type": "pulumi:pulumi:Stack", "outputs": {"ip": "k"}}]}}"#;
        let dep = parse(text).unwrap();
        assert_eq!(dep.resource_count, 1);
        assert_eq!(
            dep.outputs(&KeepSealed).unwrap()["ip"],
            Value::String("k".into())
        );
        // The Stack resource is parsed in full: its outputs are valid JSON.
        let text = r#"{"version": 3, "deployment": {"resources": [
            {"type": "pulumi:pulumi:Stack", "outputs": {"ip": 01}}]}}"#;
        assert!(parse(text).is_err());
    }
}

/// Fuzzing the state parser (issue 3, acceptance 3): arbitrary text, and pulumi's real
/// checkpoints mutated as text and as JSON trees, go through [`parse`] and
/// [`Deployment::outputs`] without a panic; valid documents built around arbitrary outputs, in
/// every envelope form, still parse to exactly those outputs.
#[cfg(test)]
mod proptests {
    use std::sync::OnceLock;

    use base64::Engine as _;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::value::proptests::{arb_envelope, arb_plain_json, arb_state_json, config};
    use crate::value::{KeepSealed, SIG_KEY, SIG_SECRET};

    const V3: &str = include_str!("../../tests/fixtures/pulumi/checkpoint-v3.json");
    const V4: &str = include_str!("../../tests/fixtures/pulumi/checkpoint-v4.json");
    const SECRETS: &str = include_str!("../../tests/fixtures/pulumi/checkpoint-secrets.json");

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// A root Stack resource whose outputs hold plain values and secrets of every stored form.
    fn stack_resource() -> Json {
        json!({
            "urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
            "custom": false,
            "type": "pulumi:pulumi:Stack",
            "outputs": {
                "ip": "203.0.113.10",
                "port": 5432,
                "db": {
                    "host": "h",
                    "password": {SIG_KEY: SIG_SECRET, "ciphertext": b64("\"hunter2\"")},
                },
                "nodes": [
                    {"ip": "10.0.0.1"},
                    {SIG_KEY: SIG_SECRET, "plaintext": "{\"ip\":\"10.0.0.2\"}"},
                ],
                "nested": {SIG_KEY: SIG_SECRET, "ciphertext": b64(&json!({
                    "inner": {SIG_KEY: SIG_SECRET, "plaintext": "[1,2]"}
                }).to_string())},
            },
        })
    }

    /// Seeds for mutation: the three real checkpoints as they are (no Stack resource), and each
    /// with a Stack resource added, as checkpoint and as export, minified and indented.
    fn seeds() -> &'static [(String, Json)] {
        static SEEDS: OnceLock<Vec<(String, Json)>> = OnceLock::new();
        SEEDS.get_or_init(|| {
            let mut out = Vec::new();
            for text in [V3, V4, SECRETS] {
                let doc: Json = serde_json::from_str(text).unwrap();
                out.push((text.to_owned(), doc.clone()));
                let mut with_stack = doc.clone();
                let latest = &mut with_stack["checkpoint"]["latest"];
                latest["resources"]
                    .as_array_mut()
                    .unwrap()
                    .insert(0, stack_resource());
                let export = json!({"version": 3, "deployment": latest.clone()});
                for doc in [with_stack, export] {
                    out.push((serde_json::to_string(&doc).unwrap(), doc.clone()));
                    out.push((serde_json::to_string_pretty(&doc).unwrap(), doc.clone()));
                    out.push((go_indent(&doc), doc));
                }
            }
            out
        })
    }

    /// `doc` as `json.MarshalIndent(doc, "", "    ")` lays it out, as `pulumi stack export` does.
    fn go_indent(doc: &Json) -> String {
        use serde::Serialize as _;
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        doc.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A document laid out by pulumi's rules reads the same through [`parse_pulumi_output`]
    /// (which skips resources by their layout) as through [`parse`] (which walks them).
    fn layout_reader_agrees(text: &str) {
        match (parse(text), parse_pulumi_output(text)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    (a.version, &a.stack, &a.time, &a.secrets, a.resource_count),
                    (b.version, &b.stack, &b.time, &b.secrets, b.resource_count)
                );
                assert_eq!(
                    a.outputs(&Base64Unseal).map_err(|e| e.to_string()),
                    b.outputs(&Base64Unseal).map_err(|e| e.to_string())
                );
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("parse: {:?}\nparse_pulumi_output: {:?}", a.err(), b.err()),
        }
    }

    /// Layout skipping finds the resources' ends and their own `type`, not a nested one.
    #[test]
    fn resources_are_skipped_by_their_layout() {
        let tricky = json!({"urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", "custom": true,
            "type": "aws:s3/bucket:Bucket",
            "inputs": {"type": "pulumi:pulumi:Stack", "text": "\n    }\n        }", "deep": {"a": {}}},
            "outputs": {"list": [{"type": "pulumi:pulumi:Stack"}], "empty": {}}});
        let doc = json!({"version": 3, "deployment": {"resources": [stack_resource(), tricky.clone(), tricky]}});
        let text = go_indent(&doc);
        let bytes = text.as_bytes();
        // Every `{` alone on its line (array elements) is an object laid out so; its end is
        // where serde ends it.
        let mut buckets = 0;
        let alone = |open: usize| {
            text[..open]
                .rfind('\n')
                .is_some_and(|line| text[line + 1..open].bytes().all(|c| c == b' '))
        };
        for (open, _) in text.match_indices("{\n").filter(|(open, _)| alone(*open)) {
            let object = scan::indented_object(bytes, open).expect("laid out as pulumi does");
            let mut stream = serde_json::Deserializer::from_str(&text[open..]).into_iter::<Json>();
            let value = stream.next().unwrap().unwrap();
            assert_eq!(
                open + stream.byte_offset(),
                object.end,
                "where serde ends it"
            );
            if value["type"] == "aws:s3/bucket:Bucket" {
                buckets += 1;
                let types = object.members(bytes, "type");
                assert_eq!(types.len(), 1, "only its own `type`");
                assert!(text[types[0]..].starts_with("\"aws:s3/bucket:Bucket\""));
            }
        }
        assert_eq!(buckets, 2);
        // Compact JSON and `{}` are not laid out: walked instead.
        assert_eq!(scan::indented_object(b"[{\"a\": 1}]", 1), None);
        assert_eq!(scan::indented_object(b"\n    {}", 5), None);
        layout_reader_agrees(&text);
        assert_eq!(parse_pulumi_output(&text).unwrap().resource_count, 3);
    }

    /// The serde_json reader [`parse`] replaced, which parsed the envelope and every resource:
    /// what the scanner reads must agree with it.
    mod reference {
        use serde::Deserialize;
        use serde_json::value::RawValue;

        use super::super::{Manifest, ProviderDoc, RawResource, SecretsProvider, provider};

        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(default)]
            version: Option<i64>,
            #[serde(default, borrow)]
            deployment: Option<&'a RawValue>,
            #[serde(default, borrow)]
            checkpoint: Option<Checkpoint<'a>>,
            #[serde(default)]
            stack: Option<String>,
            #[serde(default, borrow)]
            latest: Option<&'a RawValue>,
        }

        #[derive(Deserialize)]
        struct Checkpoint<'a> {
            #[serde(default)]
            stack: Option<String>,
            #[serde(default, borrow)]
            latest: Option<&'a RawValue>,
        }

        #[derive(Deserialize)]
        struct DeploymentBody<'a> {
            #[serde(default)]
            manifest: Option<Manifest>,
            #[serde(default)]
            secrets_providers: Option<ProviderDoc>,
            #[serde(default, borrow)]
            resources: Vec<RawResource<'a>>,
        }

        /// What a reader made of a document.
        #[derive(Debug, PartialEq)]
        pub(super) enum Read {
            Ok {
                version: i64,
                stack: Option<String>,
                time: Option<String>,
                secrets: Option<SecretsProvider>,
                resource_count: usize,
                outputs: Option<String>,
            },
            UnknownShape,
            TooNew(i64),
            BadVersion(i64),
            /// Any other error.
            Error(String),
        }

        pub(super) fn parse(text: &str) -> Read {
            let Ok(env) = serde_json::from_str::<Envelope<'_>>(text) else {
                return Read::Error("envelope".into());
            };
            let (version, stack, latest) = match (env.deployment, env.checkpoint) {
                (Some(dep), None) => (env.version.unwrap_or(3), None, Some(dep)),
                (None, Some(cp)) => (env.version.unwrap_or(0), cp.stack, cp.latest),
                (None, None) if env.version.is_some() => (env.version.unwrap_or(0), None, None),
                (None, None) if env.stack.is_some() || env.latest.is_some() => {
                    (0, env.stack, env.latest)
                }
                _ => return Read::UnknownShape,
            };
            if version > super::super::MAX_VERSION {
                return Read::TooNew(version);
            }
            if version < 0 {
                return Read::BadVersion(version);
            }
            let Some(latest) = latest.filter(|raw| raw.get() != "null") else {
                return Read::Ok {
                    version,
                    stack,
                    time: None,
                    secrets: None,
                    resource_count: 0,
                    outputs: None,
                };
            };
            let body: DeploymentBody<'_> = match serde_json::from_str(latest.get()) {
                Ok(body) => body,
                Err(e) => return Read::Error(e.to_string()),
            };
            let outputs = body
                .resources
                .iter()
                .find(|r| r.ty == "pulumi:pulumi:Stack" && r.parent.is_none() && !r.delete)
                .and_then(|r| r.outputs);
            Read::Ok {
                version,
                stack,
                time: body
                    .manifest
                    .and_then(|m| m.time)
                    .filter(|t| !t.starts_with("0001-01-01")),
                secrets: body.secrets_providers.map(|p| provider(&p)),
                resource_count: body.resources.len(),
                outputs: outputs.map(|raw| raw.get().to_owned()),
            }
        }

        /// The same for [`super::parse`].
        pub(super) fn summary(read: Result<super::Deployment<'_>, super::StateError>) -> Read {
            match read {
                Ok(dep) => Read::Ok {
                    version: dep.version,
                    stack: dep.stack,
                    time: dep.time,
                    secrets: dep.secrets,
                    resource_count: dep.resource_count,
                    outputs: dep.stack_outputs.map(|raw| raw.get().to_owned()),
                },
                Err(super::StateError::UnknownShape) => Read::UnknownShape,
                Err(super::StateError::TooNew(v)) => Read::TooNew(v),
                Err(super::StateError::BadVersion(v)) => Read::BadVersion(v),
                Err(e) => Read::Error(e.to_string()),
            }
        }
    }

    /// The scanner agrees with serde_json on every document serde_json read (what serde_json
    /// rejected, the scanner may read: it checks the resources it skips less), except where
    /// serde read a JSON array as a struct (its sequence form of structs).
    fn agrees_with_serde(text: &str) {
        use reference::Read;
        let old = reference::parse(text);
        let new = reference::summary(parse(text));
        match (&old, &new) {
            (Read::Error(_), _) => {}
            (_, Read::Error(e)) if e.contains("is an array, expected an object") => {}
            _ => assert_eq!(old, new, "{text}"),
        }
    }

    /// Everything stackwire does with a parsed document: no panic, whatever it holds.
    fn exercise(text: &str) {
        agrees_with_serde(text);
        // The layout-trusting reader never panics, whatever the text.
        let _ = parse_pulumi_output(text).map(|d| d.outputs(&KeepSealed).map(|o| o.len()));
        let Ok(dep) = parse(text) else { return };
        let _ = dep.describe();
        let _ = dep.outputs_have_ciphertext();
        let _ = dep.outputs(&KeepSealed);
        if let Ok(outputs) = dep.outputs(&Base64Unseal) {
            for v in outputs.values() {
                let _ = (v.masked_json(), v.plain_json(), v.stringify());
            }
        }
    }

    /// Seed documents parse, and the added Stack outputs come out with their secrets.
    #[test]
    fn seeds_parse() {
        for (text, doc) in seeds() {
            layout_reader_agrees(text);
            let dep = parse(text).unwrap();
            assert_eq!(
                dep.resource_count,
                doc.to_string().matches("\"urn\"").count()
            );
            let outputs = dep.outputs(&Base64Unseal).unwrap();
            if outputs.is_empty() {
                assert!(!dep.outputs_have_ciphertext());
                continue;
            }
            assert!(dep.outputs_have_ciphertext());
            let shown = Json::Object(
                outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.plain_json()))
                    .collect(),
            );
            assert_eq!(
                shown,
                json!({"db": {"host": "h", "password": "hunter2"}, "ip": "203.0.113.10",
                       "nested": {"inner": [1.0, 2.0]},
                       "nodes": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                       "port": 5432.0})
            );
            let sealed = dep.outputs(&KeepSealed).unwrap();
            assert!(sealed["db"].contains_sealed() && !sealed["nodes"].contains_sealed());
        }
    }

    /// A text edit of a seed: what, where, how long, and what to put there.
    #[derive(Clone, Debug)]
    enum TextEdit {
        Delete(Index, usize),
        Duplicate(Index, usize),
        Replace(Index, usize, &'static str),
        Insert(Index, &'static str),
        Truncate(Index),
    }

    /// Fragments likely to make a document odd rather than merely invalid.
    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"",
        ",",
        ":",
        "null",
        "true",
        "0",
        "-1",
        "1e400",
        "\"\\ud800\"",
        "\\",
        "\"version\":9,",
        "\"version\":-1,",
        "\"latest\":null,",
        "\"deployment\":null,",
        "\"type\":\"pulumi:pulumi:Stack\",",
        "\"outputs\":",
        "\"delete\":true,",
        "\"parent\":\"x\",",
        concat!(
            "{\"4dabf18193072939515e22adb298388d\":\"1b47061264138c4ac30d75fd1eb44270\",",
            "\"ciphertext\":\"!!\"}"
        ),
        concat!(
            "{\"4dabf18193072939515e22adb298388d\":\"1b47061264138c4ac30d75fd1eb44270\",",
            "\"plaintext\":\"{\"}"
        ),
        "{\"4dabf18193072939515e22adb298388d\":\"1b47061264138c4ac30d75fd1eb44270\"}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "\u{feff}",
        "\u{0}",
        "é",
    ];

    fn arb_text_edit() -> impl Strategy<Value = TextEdit> {
        let fragment = prop::sample::select(FRAGMENTS);
        prop_oneof![
            (any::<Index>(), 1usize..200).prop_map(|(at, n)| TextEdit::Delete(at, n)),
            (any::<Index>(), 1usize..200).prop_map(|(at, n)| TextEdit::Duplicate(at, n)),
            (any::<Index>(), 0usize..20, fragment.clone())
                .prop_map(|(at, n, f)| TextEdit::Replace(at, n, f)),
            (any::<Index>(), fragment).prop_map(|(at, f)| TextEdit::Insert(at, f)),
            any::<Index>().prop_map(TextEdit::Truncate),
        ]
    }

    fn apply_text_edit(bytes: &mut Vec<u8>, edit: &TextEdit) {
        let len = bytes.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len + 1) };
        let span = |start: usize, n: usize| start..(start + n).min(len);
        match edit {
            TextEdit::Delete(i, n) => {
                bytes.drain(span(at(i), *n));
            }
            TextEdit::Duplicate(i, n) => {
                let range = span(at(i), *n);
                let copy = bytes[range.clone()].to_vec();
                bytes.splice(range.end..range.end, copy);
            }
            TextEdit::Replace(i, n, f) => {
                bytes.splice(span(at(i), *n), f.bytes());
            }
            TextEdit::Insert(i, f) => {
                let start = at(i);
                bytes.splice(start..start, f.bytes());
            }
            TextEdit::Truncate(i) => bytes.truncate(at(i)),
        }
    }

    /// A change to one node of a seed's JSON tree.
    #[derive(Clone, Debug)]
    enum TreeEdit {
        /// Replace the node with arbitrary JSON (often another type).
        Replace(Json),
        /// Remove one of the node's children.
        Delete(Index),
        /// Copy one of the node's children (arrays: in place; objects: under a meaningful key).
        Duplicate(Index, &'static str),
        /// Set a meaningful key of the node (made an object if it is not one).
        Set(&'static str, Json),
        /// Replace the node with a secret or output-value envelope, well-formed or not.
        Envelope(Json),
        /// Keep the content, change the type: object ↔ array, number ↔ string, bool → number.
        Retype,
    }

    /// Keys stackwire or pulumi give a meaning to.
    const KEYS: &[&str] = &[
        "version",
        "features",
        "checkpoint",
        "deployment",
        "stack",
        "latest",
        "manifest",
        "time",
        "secrets_providers",
        "type",
        "state",
        "salt",
        "resources",
        "urn",
        "parent",
        "delete",
        "outputs",
        "4dabf18193072939515e22adb298388d",
        "ciphertext",
        "plaintext",
        "value",
        "secret",
    ];

    fn arb_tree_edit() -> impl Strategy<Value = TreeEdit> {
        let key = prop::sample::select(KEYS);
        let special = prop_oneof![
            Just(json!(null)),
            Just(json!(9)),
            Just(json!(-1)),
            Just(json!("pulumi:pulumi:Stack")),
            Just(json!("passphrase")),
            Just(json!("b64")),
            Just(json!(1e300)),
            Just(json!(u64::MAX)),
        ];
        prop_oneof![
            arb_state_json().prop_map(TreeEdit::Replace),
            any::<Index>().prop_map(TreeEdit::Delete),
            (any::<Index>(), key.clone()).prop_map(|(i, k)| TreeEdit::Duplicate(i, k)),
            (key, prop_oneof![special, arb_state_json()]).prop_map(|(k, v)| TreeEdit::Set(k, v)),
            arb_envelope(arb_plain_json().boxed()).prop_map(TreeEdit::Envelope),
            Just(TreeEdit::Retype),
        ]
    }

    /// The node reached by following `path` (each step picks a child), stopping at a leaf.
    fn node<'a>(mut at: &'a mut Json, path: &[Index]) -> &'a mut Json {
        for step in path {
            let len = match &*at {
                Json::Array(items) => items.len(),
                Json::Object(map) => map.len(),
                _ => 0,
            };
            if len == 0 {
                break;
            }
            at = match at {
                Json::Array(items) => &mut items[step.index(len)],
                Json::Object(map) => map.values_mut().nth(step.index(len)).unwrap(),
                _ => unreachable!(),
            };
        }
        at
    }

    fn apply_tree_edit(target: &mut Json, edit: TreeEdit) {
        match (edit, &mut *target) {
            (TreeEdit::Replace(v) | TreeEdit::Envelope(v), _) => *target = v,
            (TreeEdit::Delete(i), Json::Array(items)) if !items.is_empty() => {
                items.remove(i.index(items.len()));
            }
            (TreeEdit::Delete(i), Json::Object(map)) if !map.is_empty() => {
                let key = map.keys().nth(i.index(map.len())).unwrap().clone();
                map.remove(&key);
            }
            (TreeEdit::Duplicate(i, _), Json::Array(items)) if !items.is_empty() => {
                let at = i.index(items.len());
                items.insert(at, items[at].clone());
            }
            (TreeEdit::Duplicate(i, key), Json::Object(map)) if !map.is_empty() => {
                let copy = map.values().nth(i.index(map.len())).unwrap().clone();
                map.insert(key.to_owned(), copy);
            }
            (TreeEdit::Set(key, v), Json::Object(map)) => {
                map.insert(key.to_owned(), v);
            }
            (TreeEdit::Set(key, v), _) => *target = json!({key: v}),
            (TreeEdit::Retype, Json::Object(map)) => {
                *target = Json::Array(map.values().cloned().collect());
            }
            (TreeEdit::Retype, Json::Array(items)) => {
                *target = Json::Object(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i.to_string(), v.clone()))
                        .collect(),
                );
            }
            (TreeEdit::Retype, Json::String(s)) => {
                *target = s.parse::<f64>().map_or(json!(s.len()), |n| json!(n));
            }
            (TreeEdit::Retype, Json::Number(n)) => *target = json!(n.to_string()),
            (TreeEdit::Retype, Json::Bool(b)) => *target = json!(u8::from(*b)),
            (TreeEdit::Retype, Json::Null) => *target = json!({}),
            _ => {}
        }
    }

    /// Where edits land: anywhere in the document, or inside the Stack resource's outputs
    /// (when the seed has one), where secrets are decoded.
    fn edit_root(doc: &mut Json, in_outputs: bool) -> &mut Json {
        if !in_outputs {
            return doc;
        }
        let has_outputs =
            |r: &Json| r.get("outputs").is_some() && r["type"] == "pulumi:pulumi:Stack";
        let resources = if doc.get("deployment").is_some() {
            &doc["deployment"]["resources"]
        } else {
            &doc["checkpoint"]["latest"]["resources"]
        };
        let Some(i) = resources
            .as_array()
            .and_then(|r| r.iter().position(has_outputs))
        else {
            return doc;
        };
        if doc.get("deployment").is_some() {
            &mut doc["deployment"]["resources"][i]["outputs"]
        } else {
            &mut doc["checkpoint"]["latest"]["resources"][i]["outputs"]
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            exercise(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            exercise(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn json_like_text_never_panics(text in "[\\[\\]{}\":,0-9a-z \\\\-]{0,80}") {
            exercise(&text);
        }

        #[test]
        fn arbitrary_envelopes_never_panic(
            version in prop_oneof![
                Just(json!(0)),
                Just(json!(3)),
                Just(json!(4)),
                arb_plain_json(),
            ],
            stack in arb_plain_json(),
            latest in arb_state_json(),
            outputs in arb_state_json(),
            form in 0..4usize,
        ) {
            // Shapes around a body: arbitrary, and a body whose Stack outputs are arbitrary.
            let body = json!({"resources": [{"type": "pulumi:pulumi:Stack", "outputs": outputs}]});
            for latest in [latest, body] {
                let doc = match form {
                    0 => json!({"version": version, "deployment": latest}),
                    1 => json!({
                        "version": version,
                        "checkpoint": {"stack": stack, "latest": latest},
                    }),
                    2 => json!({"stack": stack, "latest": latest}),
                    _ => json!({"version": version, "features": stack, "checkpoint": latest}),
                };
                exercise(&doc.to_string());
            }
        }

        #[test]
        fn text_mutations_of_real_checkpoints_never_panic(
            seed in any::<Index>(),
            edits in prop::collection::vec(arb_text_edit(), 1..6),
        ) {
            let (text, _) = seed.get(seeds());
            let mut bytes = text.as_bytes().to_vec();
            for edit in &edits {
                apply_text_edit(&mut bytes, edit);
            }
            exercise(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn tree_mutations_of_real_checkpoints_never_panic(
            seed in any::<Index>(),
            edits in prop::collection::vec(
                (any::<bool>(), prop::collection::vec(any::<Index>(), 0..8), arb_tree_edit()),
                1..4,
            ),
            pretty in any::<bool>(),
        ) {
            let (_, doc) = seed.get(seeds());
            let mut doc = doc.clone();
            for (in_outputs, path, edit) in edits {
                apply_tree_edit(node(edit_root(&mut doc, in_outputs), &path), edit);
            }
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            };
            exercise(&text);
            layout_reader_agrees(&text);
            layout_reader_agrees(&go_indent(&doc));
        }

        #[test]
        fn valid_documents_parse_to_their_outputs(
            plain in prop::collection::btree_map("[a-r][a-zA-Z0-9_]{0,8}", arb_plain_json(), 0..6),
            secrets in prop::collection::btree_map("s[a-zA-Z0-9_]{0,8}", arb_plain_json(), 0..4),
            form in 0..5usize,
            pretty in any::<bool>(),
        ) {
            let mut outputs = serde_json::Map::new();
            let mut sealed = BTreeMap::new();
            let mut open = BTreeMap::new();
            // Expected values come from the same JSON text the document holds.
            let reparse = |j: &Json| serde_json::from_str::<Json>(&j.to_string()).unwrap();
            for (k, v) in &plain {
                let v = reparse(v);
                sealed.insert(k.clone(), Value::from_plain(&v));
                open.insert(k.clone(), Value::from_plain(&v));
                outputs.insert(k.clone(), v);
            }
            for (i, (k, v)) in secrets.iter().enumerate() {
                let v = reparse(v);
                let stored = if i % 2 == 0 {
                    json!({SIG_KEY: SIG_SECRET, "ciphertext": b64(&v.to_string())})
                } else {
                    json!({SIG_KEY: SIG_SECRET, "plaintext": v.to_string()})
                };
                let inner = if i % 2 == 0 { Value::Sealed } else { Value::from_plain(&v) };
                sealed.insert(k.clone(), Value::Secret(Box::new(inner)));
                open.insert(k.clone(), Value::Secret(Box::new(Value::from_plain(&v))));
                outputs.insert(k.clone(), stored);
            }
            let latest = json!({
                "manifest": {"time": "2026-01-02T03:04:05Z"},
                "secrets_providers": {"type": "b64", "state": {}},
                "resources": [
                    {
                        "urn": "urn:pulumi:dev::p::pulumi:providers:aws::default",
                        "type": "pulumi:providers:aws",
                    },
                    {
                        "urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
                        "type": "pulumi:pulumi:Stack",
                        "outputs": outputs,
                    },
                ],
            });
            let stack = "organization/p/dev";
            let doc = match form {
                0 => json!({"version": 3, "deployment": latest}),
                1 => json!({"version": 3, "checkpoint": {"stack": stack, "latest": latest}}),
                2 => json!({"version": 4, "features": ["refreshBeforeUpdate"],
                            "checkpoint": {"stack": stack, "latest": latest}}),
                3 => json!({"version": 1, "checkpoint": {"stack": stack, "latest": latest}}),
                _ => json!({"stack": stack, "latest": latest}),
            };
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            };
            let dep = parse(&text).unwrap();
            prop_assert_eq!(dep.resource_count, 2);
            prop_assert_eq!(dep.secrets.clone(), Some(SecretsProvider::Base64));
            prop_assert_eq!(dep.time.as_deref(), Some("2026-01-02T03:04:05Z"));
            prop_assert_eq!(dep.stack.is_some(), form != 0);
            prop_assert_eq!(dep.outputs_have_ciphertext(), !secrets.is_empty());
            prop_assert_eq!(dep.outputs(&KeepSealed).unwrap(), sealed);
            prop_assert_eq!(dep.outputs(&Base64Unseal).unwrap(), open);
        }
    }
}
