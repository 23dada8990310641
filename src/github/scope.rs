//! A target's scope as GitHub addresses it: REST paths, per-scope limits, and the keys under
//! which the local record and messages name it.

use crate::mapping::github::{Scope, Visibility};

/// The REST path (no host) of the scope's `secrets` or `variables` collection.
pub(crate) fn collection(scope: &Scope, what: &str) -> String {
    match scope {
        Scope::Repo { owner, repo } => {
            format!("/repos/{}/{}/actions/{what}", seg(owner), seg(repo))
        }
        Scope::Environment {
            owner,
            repo,
            environment,
        } => format!(
            "/repos/{}/{}/environments/{}/{what}",
            seg(owner),
            seg(repo),
            seg(environment)
        ),
        Scope::Org { org, .. } => format!("/orgs/{}/actions/{what}", seg(org)),
    }
}

/// The path of one named secret or variable.
pub(crate) fn item(scope: &Scope, what: &str, name: &str) -> String {
    format!("{}/{}", collection(scope, what), seg(name))
}

/// A stable key for the scope: `repo:acme/app`, `environment:acme/app/production`, `org:acme`.
pub(crate) fn key(scope: &Scope) -> String {
    match scope {
        Scope::Repo { owner, repo } => format!("repo:{owner}/{repo}"),
        Scope::Environment {
            owner,
            repo,
            environment,
        } => format!("environment:{owner}/{repo}/{environment}"),
        Scope::Org { org, .. } => format!("org:{org}"),
    }
}

/// Org visibility settings as one comparable string (empty for other scopes): part of every
/// secret's fingerprint and of the ownership marker, so a change of visibility rewrites.
pub(crate) fn settings(scope: &Scope) -> String {
    match scope {
        Scope::Org {
            visibility,
            repositories,
            ..
        } => match visibility {
            Visibility::Selected => {
                let mut repos = repositories.clone();
                repos.sort();
                format!("selected:{}", repos.join(","))
            }
            v => v.as_str().to_owned(),
        },
        _ => String::new(),
    }
}

/// The organization visibility to send, for org scopes.
pub(crate) fn visibility(scope: &Scope) -> Option<Visibility> {
    match scope {
        Scope::Org { visibility, .. } => Some(*visibility),
        _ => None,
    }
}

/// How many secrets and variables GitHub allows in the scope (secrets reference, §3).
pub(crate) fn limits(scope: &Scope) -> (usize, usize) {
    match scope {
        Scope::Repo { .. } => (100, 500),
        Scope::Environment { .. } => (100, 100),
        Scope::Org { .. } => (1000, 1000),
    }
}

/// Percent-encode one path segment (environment names may hold spaces and other characters).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let env = Scope::Environment {
            owner: "acme".into(),
            repo: "app".into(),
            environment: "prod eu/1".into(),
        };
        assert_eq!(
            collection(&env, "secrets"),
            "/repos/acme/app/environments/prod%20eu%2F1/secrets"
        );
        let org = Scope::Org {
            org: "acme".into(),
            visibility: Visibility::Selected,
            repositories: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            item(&org, "variables", "X"),
            "/orgs/acme/actions/variables/X"
        );
        assert_eq!(settings(&org), "selected:a,b");
        let repo = Scope::Repo {
            owner: "acme".into(),
            repo: "app".into(),
        };
        assert_eq!(
            item(&repo, "secrets", "DB"),
            "/repos/acme/app/actions/secrets/DB"
        );
        assert_eq!(key(&env), "environment:acme/app/prod eu/1");
    }
}
