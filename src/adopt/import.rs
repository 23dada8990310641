//! `pulumi import --file` documents, one per wave (`pulumi-contract.md` §7), and their checks.
//!
//! A document is `{"nameTable": {<provider>: <URN>}, "resources": [{type, name, id, provider}]}`,
//! written as the CLI writes its own (`writeImportFile`: 4-space indent). [`validate`] applies
//! the CLI's `parseImportFile` rules plus the Kubernetes provider's id rules; the command runs
//! it on every file before writing, so a malformed file is a bug caught here, not in pulumi.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::kinds;
use super::{ProviderRef, Wave};

/// One `resources[]` entry, in the order pulumi writes its fields.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ImportSpec {
    #[serde(rename = "type")]
    pub(crate) type_token: String,
    pub(crate) name: String,
    pub(crate) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) provider: Option<String>,
}

/// An import file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ImportFile {
    #[serde(rename = "nameTable", skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) name_table: BTreeMap<String, String>,
    pub(crate) resources: Vec<ImportSpec>,
}

/// The import document of a wave.
pub(crate) fn document(wave: &Wave, provider: Option<&ProviderRef>) -> ImportFile {
    ImportFile {
        name_table: provider
            .map(|p| (p.name.clone(), p.urn.clone()))
            .into_iter()
            .collect(),
        resources: wave
            .resources
            .iter()
            .map(|r| ImportSpec {
                type_token: r.type_token.clone(),
                name: r.import_name.clone(),
                id: r.id.clone(),
                provider: provider.map(|p| p.name.clone()),
            })
            .collect(),
    }
}

/// Serialize as `pulumi import` writes import files: 4-space indent, trailing newline.
pub(crate) fn to_text(doc: &ImportFile) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing plain structs into a Vec cannot fail.
    let _ = doc.serialize(&mut ser);
    let mut text = String::from_utf8(out).unwrap_or_default();
    text.push('\n');
    text
}

/// Problems with an import document, as `pulumi import` would report them (plus the
/// Kubernetes id rules). Empty when valid. `taken` holds `(type, name)` already in state.
pub(crate) fn validate(doc: &Value, taken: &HashSet<(String, String)>) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(obj) = doc.as_object() else {
        return vec!["the document is not a JSON object".into()];
    };
    let name_table: HashMap<&str, &str> = match obj.get("nameTable") {
        None => HashMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|u| (k.as_str(), u)))
            .collect(),
        Some(_) => return vec!["`nameTable` is not an object".into()],
    };
    for (name, urn) in &name_table {
        if !urn.starts_with("urn:pulumi:") || urn.split("::").count() < 4 {
            errs.push(format!("nameTable entry '{name}' is not a URN: {urn}"));
        }
    }
    let Some(resources) = obj.get("resources").and_then(Value::as_array) else {
        return vec!["`resources` is missing or not an array".into()];
    };
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut urns: HashSet<(String, String)> = HashSet::new();
    for spec in resources {
        if let Some(n) = spec.get("name").and_then(Value::as_str) {
            *names.entry(n).or_default() += 1;
        }
    }
    for (i, spec) in resources.iter().enumerate() {
        let get = |k: &str| spec.get(k).and_then(Value::as_str).unwrap_or("");
        let (ty, name, id) = (get("type"), get("name"), get("id"));
        let logical = match get("logicalName") {
            "" => name,
            l => l,
        };
        let desc = match (name, ty) {
            ("", "") => format!("resource {i}"),
            ("", t) => format!("resource {i} of type '{t}'"),
            (n, "") => format!("resource '{n}'"),
            (n, t) => format!("resource '{n}' of type '{t}'"),
        };
        let component = spec.get("component").and_then(Value::as_bool) == Some(true);
        if ty.is_empty() {
            errs.push(format!("{desc} has no type"));
        }
        if name.is_empty() {
            errs.push(format!("{desc} has no name"));
        }
        if !component && id.is_empty() {
            errs.push(format!("{desc} has no ID"));
        }
        if component && !id.is_empty() {
            errs.push(format!("{desc} has an ID, but is marked as a component"));
        }
        if names.get(name).copied().unwrap_or(0) > 1 {
            errs.push(format!("{desc} has an ambiguous name"));
        }
        if name_table.contains_key(name) {
            errs.push(format!("{desc} has the name of a nameTable entry"));
        }
        let urn = (ty.to_owned(), logical.to_owned());
        if !urns.insert(urn.clone()) || taken.contains(&urn) {
            errs.push(format!(
                "{desc} has an ambiguous URN, set name (or logical name) to be unique"
            ));
        }
        if let Some(p) = spec.get("provider").and_then(Value::as_str) {
            match name_table.get(p) {
                None => errs.push(format!(
                    "the provider '{p}' for {desc} has no entry in 'nameTable'"
                )),
                Some(urn) if !urn.contains("::pulumi:providers:") => {
                    errs.push(format!("the provider '{p}' for {desc} is not a provider"));
                }
                Some(_) => {}
            }
        }
        if let Some(p) = spec.get("parent").and_then(Value::as_str) {
            if !name_table.contains_key(p) && !names.contains_key(p) {
                errs.push(format!(
                    "the parent '{p}' for {desc} has no entry in 'nameTable'"
                ));
            }
        }
        // The Kubernetes provider's id rules (pulumi-kubernetes fqName / parseFqName).
        if let Some(token) = kinds::parse_token(ty) {
            let cluster = kinds::builtin_cluster_scoped(&token.group, &token.kind);
            let segments: Vec<&str> = id.split('/').collect();
            let valid = match (cluster, segments.as_slice()) {
                (Some(true), [n]) => !n.is_empty(),
                (Some(false), [ns, n]) => !ns.is_empty() && !n.is_empty(),
                // A custom resource: either form, without empty parts.
                (None, [n]) => !n.is_empty(),
                (None, [ns, n]) => !ns.is_empty() && !n.is_empty(),
                _ => false,
            };
            if !valid {
                let want = match cluster {
                    Some(true) => "`name` (cluster-scoped)",
                    Some(false) => "`namespace/name` (namespaced)",
                    None => "`namespace/name` or `name`",
                };
                errs.push(format!("{desc} has the id '{id}', expected {want}"));
            }
        } else if !ty.is_empty() && ty.starts_with("kubernetes:") {
            errs.push(format!("{desc} has an invalid Kubernetes type token"));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::WaveItem;
    use serde_json::json;

    fn wave() -> Wave {
        Wave {
            wave: 1,
            tier: 1,
            label: "leaf objects",
            file: "wave-01.json".into(),
            command: String::new(),
            protect: true,
            retain_on_delete: false,
            warnings: Vec::new(),
            resources: vec![
                WaveItem {
                    kind: "Namespace".into(),
                    namespace: None,
                    name: "apps".into(),
                    type_token: "kubernetes:core/v1:Namespace".into(),
                    import_name: "apps".into(),
                    id: "apps".into(),
                    reason: String::new(),
                },
                WaveItem {
                    kind: "ConfigMap".into(),
                    namespace: Some("apps".into()),
                    name: "settings".into(),
                    type_token: "kubernetes:core/v1:ConfigMap".into(),
                    import_name: "apps-settings".into(),
                    id: "apps/settings".into(),
                    reason: String::new(),
                },
            ],
        }
    }

    #[test]
    fn document_shape_and_validity() {
        let p = ProviderRef {
            name: "k8s".into(),
            urn: "urn:pulumi:dev::proj::pulumi:providers:kubernetes::k8s".into(),
        };
        let file = document(&wave(), Some(&p));
        let text = to_text(&file);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            doc,
            json!({"nameTable": {"k8s": "urn:pulumi:dev::proj::pulumi:providers:kubernetes::k8s"},
                   "resources": [
                     {"type": "kubernetes:core/v1:Namespace", "name": "apps", "id": "apps", "provider": "k8s"},
                     {"type": "kubernetes:core/v1:ConfigMap", "name": "apps-settings", "id": "apps/settings", "provider": "k8s"}]})
        );
        assert!(validate(&doc, &HashSet::new()).is_empty());
        assert!(text.starts_with("{\n    \"nameTable\": {\n        \"k8s\""));
        assert!(text.contains("\"type\": \"kubernetes:core/v1:Namespace\",\n            \"name\": \"apps\",\n            \"id\": \"apps\""), "{text}");
        let bare = serde_json::to_value(document(&wave(), None)).unwrap();
        assert!(bare.get("nameTable").is_none());
        assert!(validate(&bare, &HashSet::new()).is_empty());
    }

    #[test]
    fn catches_what_pulumi_rejects() {
        let doc = json!({"nameTable": {"p": "urn:pulumi:dev::proj::kubernetes:core/v1:Namespace::x"},
          "resources": [
            {"type": "kubernetes:core/v1:ConfigMap", "name": "a", "id": "cfg"},
            {"type": "kubernetes:core/v1:Namespace", "name": "a", "id": "x/y", "provider": "p"},
            {"type": "", "name": "", "id": ""},
            {"type": "kubernetes:apps/v1:Deployment", "name": "d", "id": "ns/d", "provider": "q"}]});
        let errs = validate(&doc, &HashSet::new());
        let text = errs.join("\n");
        for want in [
            "resource 'a' of type 'kubernetes:core/v1:ConfigMap' has the id 'cfg', expected `namespace/name`",
            "has the id 'x/y', expected `name` (cluster-scoped)",
            "resource 'a' of type 'kubernetes:core/v1:ConfigMap' has an ambiguous name",
            "the provider 'p' for resource 'a' of type 'kubernetes:core/v1:Namespace' is not a provider",
            "resource 2 has no type",
            "resource 2 has no name",
            "resource 2 has no ID",
            "the provider 'q' for resource 'd' of type 'kubernetes:apps/v1:Deployment' has no entry in 'nameTable'",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let taken = HashSet::from([("kubernetes:apps/v1:Deployment".to_owned(), "d".to_owned())]);
        let dup = json!({"resources": [{"type": "kubernetes:apps/v1:Deployment", "name": "d", "id": "ns/d"}]});
        assert!(validate(&dup, &taken)[0].contains("ambiguous URN"));
    }
}
