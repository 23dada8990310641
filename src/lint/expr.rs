//! GitHub Actions expressions: finding `${{ … }}` in a string and the `secrets.X`, `vars.X`
//! and `env.X` they read. A small tokenizer (string literals skipped, `ctx['X']` understood),
//! not an evaluator. Pure.

/// A context whose names the lint checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Context {
    Secrets,
    Vars,
    Env,
}

impl Context {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Secrets => "secrets",
            Self::Vars => "vars",
            Self::Env => "env",
        }
    }
}

/// One `ctx.NAME` read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) context: Context,
    pub(crate) name: String,
    /// Byte offset of the reference (`secrets.X` starts here) in the scanned text.
    pub(crate) offset: usize,
}

/// The `${{ … }}` blocks of `text`, as byte ranges including the braces.
pub(crate) fn blocks(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = text.get(i..).and_then(|t| t.find("${{")) {
        let start = i + found;
        let end = block_end(b, start + 3).unwrap_or(b.len());
        out.push((start, end));
        i = end.max(start + 3);
    }
    out
}

/// The end (after `}}`) of an expression whose body starts at `from`; string literals may
/// hold `}}`.
pub(crate) fn block_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i + 2),
            _ => i += 1,
        }
    }
    None
}

/// References inside the `${{ … }}` blocks of `text`.
pub(crate) fn template_references(text: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for (start, end) in blocks(text) {
        let inner_end = end.saturating_sub(2).max(start + 3).min(text.len());
        if let Some(body) = text.get(start + 3..inner_end) {
            out.extend(references(body, start + 3));
        }
    }
    out
}

/// References in a bare expression (an `if:`), or in `${{ … }}` blocks when it has some.
pub(crate) fn condition_references(text: &str) -> Vec<Reference> {
    if text.contains("${{") {
        template_references(text)
    } else {
        references(text, 0)
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// References in an expression body; offsets are shifted by `base`.
pub(crate) fn references(expr: &str, base: usize) -> Vec<Reference> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_dot = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            i = skip_string(b, i);
            prev_dot = false;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let word = &expr[start..i];
            let context = match word.to_ascii_lowercase().as_str() {
                "secrets" => Some(Context::Secrets),
                "vars" => Some(Context::Vars),
                "env" => Some(Context::Env),
                _ => None,
            };
            if let (Some(context), false) = (context, prev_dot) {
                if let Some((name, next)) = member(expr, i) {
                    out.push(Reference {
                        context,
                        name,
                        offset: base + start,
                    });
                    i = next;
                }
            }
            prev_dot = false;
            continue;
        }
        if !c.is_ascii_whitespace() {
            prev_dot = c == b'.';
        }
        i += 1;
    }
    out
}

/// `.NAME` or `['NAME']` after a context name at `i`: the name and where reading goes on.
fn member(expr: &str, i: usize) -> Option<(String, usize)> {
    let b = expr.as_bytes();
    let mut j = i;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    match b.get(j)? {
        b'.' => {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let start = j;
            while j < b.len() && is_ident(b[j]) {
                j += 1;
            }
            (j > start && !b[start].is_ascii_digit()).then(|| (expr[start..j].to_owned(), j))
        }
        b'[' => {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b.get(j) != Some(&b'\'') {
                return None;
            }
            let end = skip_string(b, j);
            let name = expr.get(j + 1..end.saturating_sub(1))?.replace("''", "'");
            let mut k = end;
            while k < b.len() && b[k].is_ascii_whitespace() {
                k += 1;
            }
            (b.get(k) == Some(&b']') && !name.is_empty()).then_some((name, k + 1))
        }
        _ => None,
    }
}

/// The index after the string literal starting at `i` (a `'`).
fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\'' {
            if b.get(j + 1) == Some(&b'\'') {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(Context, String, usize)> {
        template_references(text)
            .into_iter()
            .map(|r| (r.context, r.name, r.offset))
            .collect()
    }

    #[test]
    fn finds_members_and_indexes() {
        let text = "a ${{ secrets.TOKEN }} b ${{ vars['REGION'] || env.X }}";
        assert_eq!(
            names(text),
            [
                (Context::Secrets, "TOKEN".into(), 6),
                (Context::Vars, "REGION".into(), 29),
                (Context::Env, "X".into(), 47),
            ]
        );
    }

    #[test]
    fn skips_strings_and_deeper_members() {
        assert!(names("${{ 'secrets.X' }}").is_empty());
        assert!(names("${{ github.event.secrets.X }}").is_empty());
        assert!(names("${{ toJSON(secrets) }}").is_empty());
        assert!(names("${{ format('}}', secrets.A) }}").len() == 1);
    }

    #[test]
    fn conditions_are_bare_expressions() {
        let refs = condition_references("env.DEPLOY == 'true' && vars.ON");
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[1].name, "ON");
    }

    #[test]
    fn blocks_are_found() {
        assert_eq!(blocks("x ${{ a }} y ${{ b"), [(2, 10), (13, 18)]);
    }
}
