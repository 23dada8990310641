//! Ownership on the GitHub side: one Actions variable per stack and scope,
//! `STACKWIRE_MANAGED_<STACK>`, listing the secrets and variables stackwire wrote there.
//!
//! It lives next to what it describes, so `--prune` works from a fresh runner with no local
//! record, and each stack has its own, so two mappings that share a scope never prune each
//! other (a name another stack's marker claims, written or mapped, is kept). Names only.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::names::Kind;

/// Names starting with this are stackwire's markers (and refused as mapped names).
pub(crate) const MARKER_PREFIX: &str = "STACKWIRE_MANAGED_";

/// The marker variable of `stack`: `acme/infra/production` → `STACKWIRE_MANAGED_ACME_INFRA_PRODUCTION`.
pub(crate) fn marker_name(stack: &str) -> String {
    let mut name = String::from(MARKER_PREFIX);
    name.extend(stack.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

/// The marker's content (compact JSON in the variable's value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Marker {
    /// Format version.
    pub(crate) stackwire: u32,
    /// The stack as the mapping names it.
    pub(crate) stack: String,
    /// Org visibility settings the names were written with (empty for other scopes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) settings: String,
    #[serde(default)]
    pub(crate) secrets: BTreeSet<String>,
    #[serde(default)]
    pub(crate) variables: BTreeSet<String>,
    /// Variables this stack maps here that already held the mapped value, so stackwire did
    /// not write them: never pruned by this stack, but protected from other stacks' prune.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub(crate) mapped: BTreeSet<String>,
}

impl Marker {
    pub(crate) fn new(stack: &str, settings: &str) -> Self {
        Self {
            stackwire: 1,
            stack: stack.to_owned(),
            settings: settings.to_owned(),
            ..Self::default()
        }
    }

    /// Read a marker value; `None` when it is not one stackwire can read.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        serde_json::from_str::<Self>(value)
            .ok()
            .filter(|m| m.stackwire == 1)
    }

    pub(crate) fn render(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn names(&self, kind: Kind) -> &BTreeSet<String> {
        match kind {
            Kind::Secret => &self.secrets,
            Kind::Variable => &self.variables,
        }
    }

    pub(crate) fn names_mut(&mut self, kind: Kind) -> &mut BTreeSet<String> {
        match kind {
            Kind::Secret => &mut self.secrets,
            Kind::Variable => &mut self.variables,
        }
    }

    pub(crate) fn owns(&self, kind: Kind, name: &str) -> bool {
        self.names(kind).contains(name)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.variables.is_empty() && self.mapped.is_empty()
    }

    /// Whether this stack wrote or maps `name` as `kind` (so no other stack may prune it).
    pub(crate) fn claims(&self, kind: Kind, name: &str) -> bool {
        self.owns(kind, name) || (kind == Kind::Variable && self.mapped.contains(name))
    }

    /// Same names and settings (the stack is given by the marker's name).
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.secrets == other.secrets
            && self.variables == other.variables
            && self.mapped == other.mapped
            && self.settings == other.settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_round_trip() {
        assert_eq!(marker_name("production"), "STACKWIRE_MANAGED_PRODUCTION");
        assert_eq!(
            marker_name("acme/infra/prod-eu"),
            "STACKWIRE_MANAGED_ACME_INFRA_PROD_EU"
        );
        let mut m = Marker::new("production", "");
        m.names_mut(Kind::Secret).insert("DB".into());
        m.names_mut(Kind::Variable).insert("URL".into());
        let text = m.render();
        assert_eq!(
            text,
            r#"{"stackwire":1,"stack":"production","secrets":["DB"],"variables":["URL"]}"#
        );
        assert_eq!(Marker::parse(&text), Some(m.clone()));
        assert!(m.owns(Kind::Secret, "DB") && !m.owns(Kind::Variable, "DB"));
        assert_eq!(Marker::parse("hand-edited"), None);
        assert_eq!(Marker::parse(r#"{"stackwire":2,"stack":"x"}"#), None);
    }
}
