//! JSON text exactly as Go's `encoding/json` writes it with HTML escaping off, which is what
//! the pulumi CLI prints: keys sorted, numbers as float64 (`3`, `1.5`, `1e+21`), U+2028 and
//! U+2029 escaped. `stackwire outputs --json` must be byte-identical to `pulumi stack output --json`.

use std::fmt::Write as _;

use serde_json::Value as Json;

/// Single-line encoding (pulumi's `stringifyOutput`, `MakeJSONString(v, false)`).
pub(crate) fn compact(value: &Json) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

/// Indented encoding with `indent` spaces per level and a trailing newline (`ui.PrintJSON`).
pub(crate) fn pretty(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(indent), 0);
    out.push('\n');
    out
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * level));
    }
}

fn write_value(out: &mut String, value: &Json, indent: Option<usize>, level: usize) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&float(n.as_f64().unwrap_or(0.0))),
        Json::String(s) => string(out, s),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Json::Object(map) if map.is_empty() => out.push_str("{}"),
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                string(out, key);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, &map[key], indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

/// A string literal with Go's escapes (`SetEscapeHTML(false)`).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float64 as Go's `encoding/json` formats it: `strconv` shortest digits, `'f'` notation
/// for 1e-6 <= |x| < 1e21, else `'e'` with at least one exponent digit (`1e+21`, `1e-7`).
pub(crate) fn float(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        // Rust's Display prints the shortest round-trip digits without an exponent.
        let s = format!("{f}");
        return if s == "-0" { "-0".to_owned() } else { s };
    }
    // LowerExp gives the shortest digits as `1.5e-7` / `1e21`; Go writes `1.5e-07` then trims
    // a single leading zero of the exponent back to `1.5e-7`, and always signs it: `1e+21`.
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    if let Some(digits) = exp.strip_prefix('-') {
        format!("{mantissa}e-{digits}")
    } else {
        format!("{mantissa}e+{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_match_go() {
        for (f, go) in [
            (3.0, "3"),
            (1.5, "1.5"),
            (-2.0, "-2"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (1e-6, "0.000001"),
            (123_456_789_012.0, "123456789012"),
            (0.1, "0.1"),
            (1e20, "100000000000000000000"),
            (12_345_678_901_234_567_890.0, "12345678901234567000"),
        ] {
            assert_eq!(float(f), go, "{f}");
        }
    }

    #[test]
    fn pretty_matches_print_json() {
        let v = json!({"b": [1, {"y": "\u{2028}<&>"}], "a": {}, "c": []});
        assert_eq!(
            pretty(&v, 2),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"y\": \"\\u2028<&>\"\n    }\n  ],\n  \"c\": []\n}\n"
        );
        assert_eq!(compact(&v), r#"{"a":{},"b":[1,{"y":"\u2028<&>"}],"c":[]}"#);
    }

    #[test]
    fn control_characters_are_escaped_like_go() {
        assert_eq!(
            compact(&json!("a\u{1}\u{8}\u{7f}")),
            "\"a\\u0001\\b\u{7f}\""
        );
    }
}
