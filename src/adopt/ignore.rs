//! `.stackwire/adopt-ignore`: gitignore-like patterns over `Kind/namespace/name` (`Kind/name`
//! for cluster-scoped objects) that exclude objects from adoption, or with `!` bring back an
//! object the default rules exclude.
//!
//! Rules, as in `.gitignore` / `.driftignore`: one pattern a line; `#` starts a comment; `!`
//! negates; the last matching pattern wins; `*` and `?` stay within a segment, `**` crosses
//! segments; a pattern without `/` matches any one segment (`kube-system` matches everything in
//! that namespace); a pattern with `/` is anchored and also matches everything below it
//! (`Secret/prod` = every Secret in `prod`); a trailing `/` matches only what is below. Matching
//! ignores case, since kinds are often typed in lower case.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher};

/// One pattern line.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) negate: bool,
    /// Without `/`: matched against each segment.
    any_segment: bool,
    matchers: Vec<GlobMatcher>,
}

/// The parsed ignore file.
#[derive(Debug, Default)]
pub(crate) struct IgnoreFile {
    pub(crate) path: PathBuf,
    pub(crate) rules: Vec<Rule>,
}

/// An invalid pattern.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: invalid pattern `{pattern}`: {message}", path.display())]
pub(crate) struct IgnoreError {
    pub(crate) path: PathBuf,
    pub(crate) line: usize,
    pub(crate) pattern: String,
    pub(crate) message: String,
}

/// What the file says about an object.
#[derive(Debug)]
pub(crate) enum Verdict<'a> {
    /// A pattern excludes it.
    Ignore(&'a Rule),
    /// A `!` pattern brings it back.
    Include(&'a Rule),
    /// No pattern matches.
    Silent,
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .case_insensitive(true)
        .backslash_escape(true)
        .build()
}

impl IgnoreFile {
    /// Parse the file's text.
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self, IgnoreError> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (negate, body) = match trimmed.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, trimmed.strip_prefix('\\').unwrap_or(trimmed)),
            };
            let err = |message: String| IgnoreError {
                path: path.to_owned(),
                line,
                pattern: trimmed.to_owned(),
                message,
            };
            let dir_only = body.ends_with('/');
            let body = body.trim_start_matches('/').trim_end_matches('/');
            if body.is_empty() {
                return Err(err("the pattern is empty".into()));
            }
            let any_segment = !body.contains('/');
            let mut patterns = Vec::new();
            if any_segment {
                patterns.push(body.to_owned());
            } else {
                if !dir_only {
                    patterns.push(body.to_owned());
                }
                patterns.push(format!("{body}/**"));
            }
            let matchers = patterns
                .iter()
                .map(|p| glob(p).map(|g| g.compile_matcher()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(e.kind().to_string()))?;
            rules.push(Rule {
                line,
                text: trimmed.to_owned(),
                negate,
                any_segment,
                matchers,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            rules,
        })
    }

    /// Read `path`; `Ok(None)` when it does not exist.
    pub(crate) fn load(path: &Path) -> Result<Option<Self>, IgnoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(IgnoreError {
                path: path.to_owned(),
                line: 0,
                pattern: String::new(),
                message: e.to_string(),
            }),
        }
    }

    /// The verdict for an object.
    pub(crate) fn verdict(&self, kind: &str, namespace: Option<&str>, name: &str) -> Verdict<'_> {
        let path = match namespace {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        };
        for rule in self.rules.iter().rev() {
            let hit = if rule.any_segment {
                path.split('/')
                    .any(|segment| rule.matchers[0].is_match(segment))
            } else {
                rule.matchers.iter().any(|m| m.is_match(&path))
            };
            if hit {
                return if rule.negate {
                    Verdict::Include(rule)
                } else {
                    Verdict::Ignore(rule)
                };
            }
        }
        Verdict::Silent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> IgnoreFile {
        IgnoreFile::parse(text, Path::new(".stackwire/adopt-ignore")).unwrap()
    }

    fn ignored(f: &IgnoreFile, kind: &str, ns: Option<&str>, name: &str) -> Option<bool> {
        match f.verdict(kind, ns, name) {
            Verdict::Ignore(_) => Some(true),
            Verdict::Include(_) => Some(false),
            Verdict::Silent => None,
        }
    }

    #[test]
    fn gitignore_like_patterns() {
        let f = file(
            "# comment\n\nConfigMap/*/feature-*\nsandbox\nSecret/prod\nClusterRole/\n!ConfigMap/*/feature-keep\n/deployment/apps/legacy-?\nCustomResourceDefinition/**/*.example.com\n",
        );
        assert_eq!(
            ignored(&f, "ConfigMap", Some("apps"), "feature-x"),
            Some(true)
        );
        assert_eq!(
            ignored(&f, "ConfigMap", Some("apps"), "feature-keep"),
            Some(false)
        );
        assert_eq!(ignored(&f, "ConfigMap", Some("apps"), "settings"), None);
        assert_eq!(ignored(&f, "Deployment", Some("sandbox"), "x"), Some(true));
        assert_eq!(
            ignored(&f, "Deployment", Some("apps"), "sandbox"),
            Some(true)
        );
        assert_eq!(ignored(&f, "Secret", Some("prod"), "db"), Some(true));
        assert_eq!(ignored(&f, "Secret", Some("production"), "db"), None);
        assert_eq!(ignored(&f, "ClusterRole", None, "admin"), Some(true));
        assert_eq!(
            ignored(&f, "Deployment", Some("apps"), "legacy-1"),
            Some(true)
        );
        assert_eq!(ignored(&f, "Deployment", Some("apps"), "legacy-10"), None);
        assert_eq!(
            ignored(&f, "CustomResourceDefinition", None, "widgets.example.com"),
            Some(true)
        );
    }

    #[test]
    fn negation_brings_back_default_exclusions_and_errors_name_the_line() {
        let f = file("!ConfigMap/*/kube-root-ca.crt\n");
        assert_eq!(
            ignored(&f, "ConfigMap", Some("a"), "kube-root-ca.crt"),
            Some(false)
        );
        let err = IgnoreFile::parse("ok\nConfigMap/[a\n", Path::new("f")).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string()
                .starts_with("f:2: invalid pattern `ConfigMap/[a`"),
            "{err}"
        );
    }
}
