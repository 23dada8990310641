//! Keeping secret values out of what health checks show.
//!
//! Targets are shown from a second rendering in which every secret variable reads
//! `[secret]`, so they never hold a secret in the first place. Text that comes from outside
//! (an HTTP library's error, a check command's output) goes through [`Masker::mask`], which
//! replaces each secret value, raw or percent-encoded as `urlencode` writes it.

use crate::vars::{SECRET_MASK, Var};

/// Replaces the secret values of a set of variables.
#[derive(Clone, Debug, Default)]
pub(crate) struct Masker {
    /// Every form to replace, longest first (so a value containing another is caught whole).
    needles: Vec<String>,
}

impl Masker {
    pub(crate) fn new(vars: &[Var]) -> Self {
        let mut needles: Vec<String> = Vec::new();
        for var in vars.iter().filter(|v| v.secret) {
            let Some(value) = var.value.as_deref().filter(|v| !v.is_empty()) else {
                continue;
            };
            for form in [
                value.to_owned(),
                percent_encode(value, |c| c.is_ascii_alphanumeric()),
                percent_encode(value, |c| c.is_ascii_alphanumeric() || "-_.~/".contains(c)),
            ] {
                if !needles.contains(&form) {
                    needles.push(form);
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        Self { needles }
    }

    /// `text` with every secret value replaced by `[secret]`.
    pub(crate) fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), SECRET_MASK);
            }
        }
        out
    }
}

/// Percent-encode the bytes of `text` whose character `keep` rejects (upper-case hex).
fn percent_encode(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0_u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A URL with the password of its userinfo (`https://user:pass@host`) masked, whatever
/// produced it: a credential in a URL is never shown.
pub(crate) fn mask_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}{SECRET_MASK}{}",
        &url[..authority_start],
        &authority[..=colon],
        &url[authority_start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str, secret: bool) -> Var {
        Var {
            name: name.into(),
            value: Some(value.into()),
            secret,
        }
    }

    #[test]
    fn secret_values_are_masked_raw_and_encoded() {
        let m = Masker::new(&[
            var("TOKEN", "s3cr3t/+x y", true),
            var("SHORT", "s3cr3t", true),
            var("HOST", "example.com", false),
            var("EMPTY", "", true),
        ]);
        assert_eq!(
            m.mask("GET /?t=s3cr3t/+x y&u=s3cr3t%2F%2Bx%20y&v=s3cr3t/%2Bx%20y at example.com"),
            "GET /?t=[secret]&u=[secret]&v=[secret] at example.com"
        );
        assert_eq!(m.mask("plain s3cr3t"), "plain [secret]");
        assert_eq!(Masker::default().mask("as is"), "as is");
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            mask_userinfo("https://user:pa:ss@host:8443/x?a=b@c"),
            "https://user:[secret]@host:8443/x?a=b@c"
        );
        assert_eq!(
            mask_userinfo("http://user@host/p"),
            "http://user@host/p",
            "no password"
        );
        assert_eq!(
            mask_userinfo("http://host:80/a:b@c"),
            "http://host:80/a:b@c"
        );
        assert_eq!(mask_userinfo("not a url"), "not a url");
    }
}
