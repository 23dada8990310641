//! The mapping's `github:` block: where `stackwire sync` pushes the variables (issue 4).
//!
//! One block or a list of blocks, each a repository, an environment of a repository, or an
//! organization. Validated against the mapped names; nothing here talks to GitHub.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// Where one target's values go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Repository-level secrets and variables.
    Repo { owner: String, repo: String },
    /// Environment-level secrets and variables of a repository.
    Environment {
        owner: String,
        repo: String,
        environment: String,
    },
    /// Organization-level secrets and variables.
    Org {
        org: String,
        visibility: Visibility,
        repositories: Vec<String>,
    },
}

/// Which repositories of an organization see its secrets and variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Visibility {
    All,
    Private,
    Selected,
}

impl Visibility {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Private => "private",
            Self::Selected => "selected",
        }
    }
}

/// One sync target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GithubTarget {
    pub(crate) scope: Scope,
    /// Names forced to secrets even when their value is not secret.
    pub(crate) secrets: Vec<String>,
    /// Names not synced.
    pub(crate) exclude: Vec<String>,
    /// Line of the block in the mapping file.
    pub(crate) line: u64,
}

impl GithubTarget {
    /// `owner/repo`, `owner/repo (environment env)` or `org org`, for messages.
    pub(crate) fn describe(&self) -> String {
        match &self.scope {
            Scope::Repo { owner, repo } => format!("{owner}/{repo}"),
            Scope::Environment {
                owner,
                repo,
                environment,
            } => format!("{owner}/{repo} (environment {environment})"),
            Scope::Org { org, .. } => format!("organization {org}"),
        }
    }
}

/// `github:` as written: one block or a list.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawGithub {
    One(Spanned<RawTarget>),
    Many(Vec<Spanned<RawTarget>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    visibility: Option<Visibility>,
    #[serde(default)]
    repositories: Vec<String>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// Validate the `github:` block. `mapped` is the list of mapped variable names.
/// Errors are `(line, column, message)`.
pub(super) fn validate(
    raw: RawGithub,
    mapped: &[&str],
) -> Result<Vec<GithubTarget>, (u64, u64, String)> {
    let blocks = match raw {
        RawGithub::One(one) => vec![one],
        RawGithub::Many(many) => many,
    };
    let mut targets = Vec::new();
    for block in blocks {
        let (line, column) = (block.referenced.line(), block.referenced.column());
        let err = |m: String| (line, column, format!("github: {m}"));
        let t = block.value;
        let scope = match (t.repo, t.org) {
            (Some(repo), None) => {
                let (owner, name) = repo
                    .split_once('/')
                    .filter(|(o, n)| valid_slug(o) && valid_slug(n))
                    .ok_or_else(|| err(format!("`repo: {repo}` must be `owner/name`")))?;
                if t.visibility.is_some() || !t.repositories.is_empty() {
                    return Err(err(
                        "`visibility` and `repositories` apply to `org:` targets only".into(),
                    ));
                }
                match t.environment {
                    Some(env) if env.trim().is_empty() => {
                        return Err(err("`environment` is empty".into()));
                    }
                    Some(environment) => Scope::Environment {
                        owner: owner.into(),
                        repo: name.into(),
                        environment,
                    },
                    None => Scope::Repo {
                        owner: owner.into(),
                        repo: name.into(),
                    },
                }
            }
            (None, Some(org)) => {
                if !valid_slug(&org) {
                    return Err(err(format!("`org: {org}` is not an organization name")));
                }
                if t.environment.is_some() {
                    return Err(err(
                        "`environment` needs `repo:` (environments belong to a repository)".into(),
                    ));
                }
                let visibility = t.visibility.unwrap_or(Visibility::Private);
                if visibility == Visibility::Selected && t.repositories.is_empty() {
                    return Err(err(
                        "`visibility: selected` needs `repositories: [names]`".into()
                    ));
                }
                if visibility != Visibility::Selected && !t.repositories.is_empty() {
                    return Err(err("`repositories` needs `visibility: selected`".into()));
                }
                Scope::Org {
                    org,
                    visibility,
                    repositories: t.repositories,
                }
            }
            (Some(_), Some(_)) => {
                return Err(err("give either `repo:` or `org:`, not both".into()));
            }
            (None, None) => return Err(err("give `repo: owner/name` or `org: name`".into())),
        };
        for name in t.secrets.iter().chain(&t.exclude) {
            if !mapped.contains(&name.as_str()) {
                return Err(err(format!(
                    "`{name}` is not a mapped variable (mapped: {})",
                    mapped.join(", ")
                )));
            }
        }
        targets.push(GithubTarget {
            scope,
            secrets: t.secrets,
            exclude: t.exclude,
            line,
        });
    }
    let mut seen = Vec::new();
    for t in &targets {
        if seen.contains(&t.scope) {
            return Err((
                t.line,
                0,
                format!("github: {} is listed twice", t.describe()),
            ));
        }
        seen.push(t.scope.clone());
    }
    Ok(targets)
}

/// GitHub owner, repository and organization names: letters, digits, `-`, `_`, `.`.
fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
