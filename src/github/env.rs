//! Where to send requests and with which token: `GITHUB_API_URL` and `GH_TOKEN`/`GITHUB_TOKEN`.
//!
//! The token is never taken from a flag and never printed: [`Token`]'s `Debug` and `Display`
//! print `****`, and [`Token::redact`] scrubs it from any text that came back from a server.

use std::fmt;

/// The default API base (github.com); GitHub Enterprise sets `GITHUB_API_URL` on its runners.
pub(crate) const DEFAULT_API: &str = "https://api.github.com";

/// A GitHub token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// The token itself, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token replaced by `****`.
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "****")
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(****)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// The API base URL and the token.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    /// Without a trailing `/`: `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub(crate) api: String,
    pub(crate) token: Token,
    /// Which variable the token came from (for messages).
    pub(crate) token_var: &'static str,
}

/// Missing or unusable settings in the environment.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvError {
    #[error(
        "no GitHub token: set GH_TOKEN (or GITHUB_TOKEN) to a token that may write Actions secrets and variables (fine-grained: \"Secrets\" and \"Variables\" read and write, plus \"Environments\" for environment targets; organization targets need the organization permissions)"
    )]
    NoToken,
    #[error("GITHUB_API_URL={0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error(
        "GITHUB_API_URL={0:?} uses plain http to a host other than this machine; the token would travel unencrypted (use https)"
    )]
    PlainHttp(String),
}

impl Connection {
    /// Read the settings through `get` (the process environment in production).
    pub(crate) fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let (token, token_var) = match (non_empty("GH_TOKEN"), non_empty("GITHUB_TOKEN")) {
            (Some(t), _) => (t, "GH_TOKEN"),
            (None, Some(t)) => (t, "GITHUB_TOKEN"),
            (None, None) => return Err(EnvError::NoToken),
        };
        let raw = non_empty("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API.to_owned());
        let api = api_base(&raw)?;
        Ok(Self {
            api,
            token: Token(token.trim().to_owned()),
            token_var,
        })
    }
}

/// Validate and normalise an API base URL.
fn api_base(raw: &str) -> Result<String, EnvError> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| EnvError::BadUrl(raw.to_owned()))?;
    let host = url.host_str().unwrap_or_default();
    if url.query().is_some() || url.fragment().is_some() || host.is_empty() {
        return Err(EnvError::BadUrl(raw.to_owned()));
    }
    match url.scheme() {
        "https" => {}
        "http" if matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1") => {}
        "http" => return Err(EnvError::PlainHttp(raw.to_owned())),
        _ => return Err(EnvError::BadUrl(raw.to_owned())),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn gh_token_wins_and_is_never_shown() {
        let c =
            Connection::from_env(env(&[("GH_TOKEN", "ghp_a"), ("GITHUB_TOKEN", "ghp_b")])).unwrap();
        assert_eq!(c.token.expose(), "ghp_a");
        assert_eq!(c.token_var, "GH_TOKEN");
        assert_eq!(c.api, "https://api.github.com");
        assert_eq!(format!("{:?} {}", c.token, c.token), "Token(****) ****");
        assert!(!format!("{c:?}").contains("ghp_a"));
        assert_eq!(c.token.redact("Bearer ghp_a!"), "Bearer ****!");
        let c = Connection::from_env(env(&[("GH_TOKEN", " "), ("GITHUB_TOKEN", "ghp_b")])).unwrap();
        assert_eq!(c.token.expose(), "ghp_b");
        assert!(matches!(
            Connection::from_env(env(&[])),
            Err(EnvError::NoToken)
        ));
    }

    #[test]
    fn api_base_rules() {
        assert_eq!(
            api_base("https://ghe.example.com/api/v3/").unwrap(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            api_base("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(matches!(
            api_base("http://ghe.example.com"),
            Err(EnvError::PlainHttp(_))
        ));
        assert!(matches!(api_base("ftp://x"), Err(EnvError::BadUrl(_))));
        assert!(matches!(api_base("not a url"), Err(EnvError::BadUrl(_))));
    }
}
