//! A structural JSON scanner: finds where values start and end without parsing them.
//!
//! [`value_end`] skips a value: a string up to its closing quote (escapes are stepped over, not
//! decoded), an object or array up to its matching bracket (strings inside skipped, bracket kinds
//! checked to match), a scalar up to the next delimiter (checked against the JSON grammar).
//! [`Members`] and [`Elements`] walk one level of an object or array with full syntax checks
//! (colons, commas, no trailing comma), skipping the values with [`value_end`]. Nothing inside a
//! skipped object or array is checked beyond balanced strings and brackets.
//!
//! The searches test 8 bytes at a time (SWAR on `u64` words): the text is mostly string contents
//! and indentation, which hold none of the bytes the scanner stops at.

use std::borrow::Cow;

/// Where a value lies in the text: `start..end`, `start` at its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Span {
    /// The value's text. Spans start and end at ASCII bytes or the end of the text.
    pub(super) fn of(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or_default()
    }
}

/// Why scanning stopped: what was wrong, at which byte offset.
#[derive(Debug)]
pub(super) struct ScanError {
    pub(super) offset: usize,
    pub(super) what: Cow<'static, str>,
}

fn fail<T>(offset: usize, what: impl Into<Cow<'static, str>>) -> Result<T, ScanError> {
    Err(ScanError {
        offset,
        what: what.into(),
    })
}

const EOF: &str = "unexpected end of the document";

const ONES: u64 = 0x0101_0101_0101_0101;

const fn splat(byte: u8) -> u64 {
    ONES * byte as u64
}

/// The high bit of each zero byte of `v` set. Exact for the lowest zero byte (the borrow of the
/// subtraction can only mark bytes above a zero byte), which is the only one read.
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & splat(0x80)
}

/// The 8 bytes at `i`, as a little-endian word (byte `i` lowest), if there are 8.
#[inline(always)]
fn word(bytes: &[u8], i: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(i..i.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// Offset of the lowest byte flagged in a [`zero_bytes`] mask.
#[inline(always)]
fn lowest(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The first `"` or `\` at or after `i`, or `bytes.len()` (or `i`, if past the end).
#[inline]
fn find_quote_or_backslash(bytes: &[u8], mut i: usize) -> usize {
    while let Some(w) = word(bytes, i) {
        let mask = zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\\'));
        if mask != 0 {
            return i + lowest(mask);
        }
        i += 8;
    }
    while let Some(&c) = bytes.get(i) {
        if c == b'"' || c == b'\\' {
            return i;
        }
        i += 1;
    }
    i
}

/// The first byte at or after `i` that may be structural: `"`, `{`, `}`, `[` or `]`, and, from
/// the word test, possibly `Y`, `_`, `y` or DEL (which the caller steps over). `bytes.len()` (or
/// `i`, if past the end) when there is none.
#[inline]
fn find_structural(bytes: &[u8], mut i: usize) -> usize {
    while let Some(w) = word(bytes, i) {
        // `{` 7B, `}` 7D, `[` 5B, `]` 5D differ only in the bits of 0x26: OR-ing those in maps
        // all four (and `Y` 59, `_` 5F, `y` 79, DEL 7F) to 7F.
        let mask = zero_bytes(w ^ splat(b'"')) | zero_bytes((w | splat(0x26)) ^ splat(0x7F));
        if mask != 0 {
            return i + lowest(mask);
        }
        i += 8;
    }
    while let Some(&c) = bytes.get(i) {
        if matches!(c, b'"' | b'{' | b'}' | b'[' | b']') {
            return i;
        }
        i += 1;
    }
    i
}

/// The first byte at or after `i` that is not JSON whitespace.
#[inline]
pub(super) fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(i) {
        i += 1;
    }
    i
}

/// `i` is just past an opening quote: the offset just past the closing quote, and whether the
/// string holds a backslash escape.
pub(super) fn string_end(bytes: &[u8], mut i: usize) -> Result<(usize, bool), ScanError> {
    let mut escaped = false;
    loop {
        i = find_quote_or_backslash(bytes, i);
        match bytes.get(i) {
            Some(b'"') => return Ok((i + 1, escaped)),
            // A backslash: the next byte is escaped, whatever it is.
            Some(_) => {
                escaped = true;
                i += 2;
            }
            None => {
                return fail(
                    bytes.len(),
                    "unexpected end of the document inside a string",
                );
            }
        }
    }
}

/// An object laid out as Go's `json.MarshalIndent` lays it out (what `pulumi stack export`
/// prints): see [`indented_object`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IndentedObject {
    open: usize,
    /// Just past its closing `}`.
    pub(super) end: usize,
    /// Spaces before each of its own members' keys.
    member_indent: usize,
}

/// In `json.MarshalIndent` output (any indent string of spaces) a non-empty object's `{` ends
/// its line, its members start lines indented one step deeper, its `}` starts a line indented as
/// the `{` line, and no string holds a raw newline. So the object opening at `open` (preceded on
/// its line by spaces only) ends at the first newline, that many spaces and `}` after it. `None`
/// when `open` is not laid out that way (compact JSON, `{}`): the caller walks it instead.
pub(super) fn indented_object(bytes: &[u8], open: usize) -> Option<IndentedObject> {
    if bytes.get(open) != Some(&b'{') || bytes.get(open + 1) != Some(&b'\n') {
        return None;
    }
    let line = bytes[..open].iter().rposition(|&c| c == b'\n')? + 1;
    let indent = open - line;
    if !bytes[line..open].iter().all(|&c| c == b' ') {
        return None;
    }
    let member_indent = bytes[open + 2..].iter().position(|&c| c != b' ')?;
    if member_indent <= indent || bytes.get(open + 2 + member_indent) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b' '; indent + 2];
    close[0] = b'\n';
    close[indent + 1] = b'}';
    let at = memchr::memmem::find(&bytes[open..], &close)?;
    Some(IndentedObject {
        open,
        end: open + at + close.len(),
        member_indent,
    })
}

impl IndentedObject {
    /// Where the values of the object's own members named `key` (a plain key) start: the lines
    /// at its members' indentation that begin with `"key": `.
    pub(super) fn members(&self, bytes: &[u8], key: &str) -> Vec<usize> {
        let mut line = vec![b' '; self.member_indent + 1];
        line[0] = b'\n';
        line.push(b'"');
        line.extend_from_slice(key.as_bytes());
        line.extend_from_slice(b"\": ");
        memchr::memmem::find_iter(&bytes[self.open..self.end], &line)
            .map(|at| self.open + at + line.len())
            .collect()
    }
}

/// `open` is at `{` or `[`: the offset just past its matching `}` or `]`.
fn container_end(bytes: &[u8], open: usize) -> Result<usize, ScanError> {
    // Which levels are arrays: a bit each for the first 64, then a stack.
    let mut arrays: u64 = 0;
    let mut deeper: Vec<bool> = Vec::new();
    let mut depth: usize = 0;
    let mut i = open;
    loop {
        i = find_structural(bytes, i);
        let Some(&c) = bytes.get(i) else {
            return fail(
                bytes.len(),
                "unexpected end of the document inside an object or array",
            );
        };
        match c {
            b'"' => {
                i = string_end(bytes, i + 1)?.0;
                continue;
            }
            b'{' | b'[' => {
                let array = c == b'[';
                if depth < 64 {
                    arrays = arrays & !(1 << depth) | (u64::from(array) << depth);
                } else {
                    deeper.push(array);
                }
                depth += 1;
            }
            b'}' | b']' => {
                let Some(up) = depth.checked_sub(1) else {
                    return fail(i, format!("unexpected `{}`", char::from(c)));
                };
                depth = up;
                let array = if depth < 64 {
                    arrays >> depth & 1 == 1
                } else {
                    deeper.pop().unwrap_or_default()
                };
                if array != (c == b']') {
                    let want = if array { "`]` or `,`" } else { "`}` or `,`" };
                    return fail(i, format!("expected {want}, found `{}`", char::from(c)));
                }
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            // `Y`, `_`, `y` or DEL, flagged by the word test.
            _ => {}
        }
        i += 1;
    }
}

/// Whether `token` is a JSON number, `true`, `false` or `null`.
fn is_scalar(token: &[u8]) -> bool {
    if matches!(token, b"true" | b"false" | b"null") {
        return true;
    }
    let digits = |t: &[u8], i: usize| {
        let n = t.get(i..).map_or(0, |rest| {
            rest.iter().take_while(|c| c.is_ascii_digit()).count()
        });
        (n > 0).then_some(i + n)
    };
    let mut i = usize::from(token.first() == Some(&b'-'));
    match token.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(token, i).unwrap_or(i),
        _ => return false,
    }
    if token.get(i) == Some(&b'.') {
        let Some(next) = digits(token, i + 1) else {
            return false;
        };
        i = next;
    }
    if let Some(b'e' | b'E') = token.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = token.get(i) {
            i += 1;
        }
        let Some(next) = digits(token, i) else {
            return false;
        };
        i = next;
    }
    i == token.len()
}

/// `i` is at a value's first byte: the offset just past the value.
pub(super) fn value_end(bytes: &[u8], i: usize) -> Result<usize, ScanError> {
    match bytes.get(i) {
        None => fail(i.min(bytes.len()), format!("{EOF}, expected a value")),
        Some(b'"') => Ok(string_end(bytes, i + 1)?.0),
        Some(b'{' | b'[') => container_end(bytes, i),
        Some(_) => {
            let rest = bytes.get(i..).unwrap_or_default();
            let len = rest
                .iter()
                .position(|c| {
                    matches!(
                        c,
                        b',' | b':'
                            | b'{'
                            | b'}'
                            | b'['
                            | b']'
                            | b'"'
                            | b' '
                            | b'\n'
                            | b'\r'
                            | b'\t'
                    )
                })
                .unwrap_or(rest.len());
            if is_scalar(&rest[..len]) {
                Ok(i + len)
            } else {
                fail(i, "expected a JSON value")
            }
        }
    }
}

/// What kind of value starts with `byte`, for messages: "an object", "a number", ….
pub(super) fn kind(byte: u8) -> &'static str {
    match byte {
        b'{' => "an object",
        b'[' => "an array",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        b'-' | b'0'..=b'9' => "a number",
        _ => "not a JSON value",
    }
}

/// A serde_json error message without its " at line L column C" suffix.
pub(super) fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, position)) if position.contains(" column ") => message.to_owned(),
        _ => text,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    /// At the opening bracket.
    Open,
    /// A value's start was handed out; it is skipped unless the caller resumes after it.
    InValue,
    /// After a member or element.
    After,
    Done,
}

/// The members of an object, keys decoded, with the object's syntax checked.
/// [`Members::next_member`] hands out a key and where its value starts; the caller reads the
/// value and reports its end with [`Members::resume`] (a value not resumed after is skipped with
/// [`value_end`]). As an iterator, it skips every value and yields their spans. After the last
/// member, [`Members::end`] is the offset just past the closing `}`.
pub(super) struct Members<'a> {
    text: &'a str,
    pos: usize,
    walk: Walk,
}

impl<'a> Members<'a> {
    /// `open` is the offset of the object's `{`.
    pub(super) fn new(text: &'a str, open: usize) -> Self {
        Members {
            text,
            pos: open,
            walk: Walk::Open,
        }
    }

    /// Just past the closing `}`, once the walk has ended without an error.
    pub(super) fn end(&self) -> usize {
        self.pos
    }

    /// The next member's key and the offset of its value's first byte, or `None` after the
    /// closing `}`.
    pub(super) fn next_member(&mut self) -> Result<Option<(Cow<'a, str>, usize)>, ScanError> {
        let result = self.step();
        if result.is_err() {
            self.walk = Walk::Done;
        }
        result
    }

    /// Continue after a value handed out by [`Members::next_member`] that ends at `end`.
    pub(super) fn resume(&mut self, end: usize) {
        if self.walk == Walk::InValue {
            self.pos = end;
            self.walk = Walk::After;
        }
    }

    fn step(&mut self) -> Result<Option<(Cow<'a, str>, usize)>, ScanError> {
        let bytes = self.text.as_bytes();
        match self.walk {
            Walk::Done => return Ok(None),
            Walk::Open => {
                if bytes.get(self.pos) != Some(&b'{') {
                    return fail(self.pos, "expected `{`");
                }
                self.pos = skip_ws(bytes, self.pos + 1);
                if bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    self.walk = Walk::Done;
                    return Ok(None);
                }
            }
            Walk::InValue | Walk::After => {
                if self.walk == Walk::InValue {
                    self.pos = value_end(bytes, self.pos)?;
                }
                self.pos = skip_ws(bytes, self.pos);
                match bytes.get(self.pos) {
                    Some(b',') => self.pos = skip_ws(bytes, self.pos + 1),
                    Some(b'}') => {
                        self.pos += 1;
                        self.walk = Walk::Done;
                        return Ok(None);
                    }
                    Some(_) => return fail(self.pos, "expected `,` or `}` after an object member"),
                    None => return fail(self.pos, EOF),
                }
            }
        }
        let key_at = self.pos;
        match bytes.get(key_at) {
            Some(b'"') => {}
            Some(_) => return fail(key_at, "expected a string (an object key)"),
            None => return fail(key_at, EOF),
        }
        let (key_end, escaped) = string_end(bytes, key_at + 1)?;
        let quoted = Span {
            start: key_at,
            end: key_end,
        }
        .of(self.text);
        let key = if escaped {
            Cow::Owned(
                serde_json::from_str::<String>(quoted).map_err(|e| ScanError {
                    offset: key_at,
                    what: format!("in an object key: {}", serde_message(&e)).into(),
                })?,
            )
        } else {
            Cow::Borrowed(quoted.get(1..quoted.len() - 1).unwrap_or_default())
        };
        self.pos = skip_ws(bytes, key_end);
        match bytes.get(self.pos) {
            Some(b':') => {}
            Some(_) => return fail(self.pos, "expected `:` after an object key"),
            None => return fail(self.pos, EOF),
        }
        self.pos = skip_ws(bytes, self.pos + 1);
        self.walk = Walk::InValue;
        Ok(Some((key, self.pos)))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(Cow<'a, str>, Span), ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        let member = match self.next_member() {
            Ok(member) => member?,
            Err(e) => return Some(Err(e)),
        };
        let (key, start) = member;
        match value_end(self.text.as_bytes(), start) {
            Ok(end) => {
                self.resume(end);
                Some(Ok((key, Span { start, end })))
            }
            Err(e) => {
                self.walk = Walk::Done;
                Some(Err(e))
            }
        }
    }
}

/// The elements of an array, with its syntax checked. [`Elements::next_start`] hands out where
/// the next element starts; the caller reads it and reports its end with [`Elements::resume`]
/// (an element not resumed after is skipped with [`value_end`]).
pub(super) struct Elements<'a> {
    bytes: &'a [u8],
    pos: usize,
    walk: Walk,
}

impl<'a> Elements<'a> {
    /// `open` is the offset of the array's `[`.
    pub(super) fn new(bytes: &'a [u8], open: usize) -> Self {
        Elements {
            bytes,
            pos: open,
            walk: Walk::Open,
        }
    }

    /// The offset of the next element's first byte, or `None` after the closing `]`.
    pub(super) fn next_start(&mut self) -> Result<Option<usize>, ScanError> {
        let result = self.step();
        if result.is_err() {
            self.walk = Walk::Done;
        }
        result
    }

    /// Continue after an element handed out by [`Elements::next_start`] that ends at `end`.
    pub(super) fn resume(&mut self, end: usize) {
        if self.walk == Walk::InValue {
            self.pos = end;
            self.walk = Walk::After;
        }
    }

    fn step(&mut self) -> Result<Option<usize>, ScanError> {
        let bytes = self.bytes;
        match self.walk {
            Walk::Done => return Ok(None),
            Walk::Open => {
                if bytes.get(self.pos) != Some(&b'[') {
                    return fail(self.pos, "expected `[`");
                }
                self.pos = skip_ws(bytes, self.pos + 1);
                if bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    self.walk = Walk::Done;
                    return Ok(None);
                }
            }
            Walk::InValue | Walk::After => {
                if self.walk == Walk::InValue {
                    self.pos = value_end(bytes, self.pos)?;
                }
                self.pos = skip_ws(bytes, self.pos);
                match bytes.get(self.pos) {
                    Some(b',') => {
                        self.pos = skip_ws(bytes, self.pos + 1);
                        if bytes.get(self.pos) == Some(&b']') {
                            return fail(self.pos, "trailing comma");
                        }
                    }
                    Some(b']') => {
                        self.pos += 1;
                        self.walk = Walk::Done;
                        return Ok(None);
                    }
                    Some(_) => {
                        return fail(self.pos, "expected `,` or `]` after an array element");
                    }
                    None => return fail(self.pos, EOF),
                }
            }
        }
        if self.pos >= bytes.len() {
            return fail(self.pos, EOF);
        }
        self.walk = Walk::InValue;
        Ok(Some(self.pos))
    }

    /// Just past the closing `]`, once [`Elements::next_start`] has returned `None`.
    pub(super) fn end(&self) -> usize {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(text: &str) -> Result<usize, String> {
        value_end(text.as_bytes(), 0).map_err(|e| format!("{} @{}", e.what, e.offset))
    }

    #[test]
    fn values_end_where_they_should() {
        for text in [
            r#""""#,
            r#""abc""#,
            r#""a\"b""#,
            r#""a\\""#,
            r#""\\\\\"\\""#,
            r#""é ✓ \u00e9""#,
            "{}",
            "[]",
            r#"{"a":[1,{"b":"}]"}],"c":"\\"}"#,
            "[[[[[[[[[[]]]]]]]]]]",
            "0",
            "-1.5e+10",
            "true",
            "null",
        ] {
            assert_eq!(end(text), Ok(text.len()), "{text}");
            let padded = format!("{text} , 1");
            assert_eq!(end(&padded), Ok(text.len()), "{padded}");
        }
        assert_eq!(end("12}"), Ok(2));
        assert_eq!(end("false]"), Ok(5));
    }

    #[test]
    fn word_boundaries_of_the_searches() {
        // Quotes, escapes and brackets at every position of the 8-byte words.
        for pad in 0..20 {
            let fill = "x".repeat(pad);
            for text in [
                format!("\"{fill}\""),
                format!("\"{fill}\\\"{fill}\""),
                format!("[{fill:?},{{{fill:?}:[]}}]"),
                format!("{{\"{fill}\":{}}}", "[".repeat(pad) + &"]".repeat(pad)),
                format!("[\"{fill}y_Y\u{7f}\", 1 ]"),
            ] {
                assert_eq!(end(&text), Ok(text.len()), "{text}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_checked_without_recursion() {
        for depth in [63, 64, 65, 200, 100_000] {
            let text = "[{\"a\":".repeat(depth) + "1" + &"}]".repeat(depth);
            assert_eq!(end(&text), Ok(text.len()), "{depth}");
            let mismatched = "[{\"a\":".repeat(depth) + "1" + &"]}".repeat(depth);
            assert!(end(&mismatched).is_err(), "{depth}");
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        for (text, what) in [
            ("", "unexpected end"),
            ("\"abc", "inside a string"),
            ("\"abc\\\"", "inside a string"),
            ("\"abc\\", "inside a string"),
            ("{\"a\":[1,2}", "expected `]` or `,`, found `}`"),
            ("[1,2", "inside an object or array"),
            ("{\"a\":\"}", "inside a string"),
            ("tru", "expected a JSON value"),
            ("01", "expected a JSON value"),
            ("1.", "expected a JSON value"),
            ("-", "expected a JSON value"),
            ("1e", "expected a JSON value"),
            (":", "expected a JSON value"),
            ("é", "expected a JSON value"),
        ] {
            let err = end(text).unwrap_err();
            assert!(err.contains(what), "{text}: {err}");
        }
    }

    #[test]
    fn members_and_elements() {
        let text = r#" { "a" : 1 , "b\u0063" :{"x":[1]} ,"":"q"} "#;
        let mut members = Members::new(text, 1);
        let got: Vec<(String, String)> = (&mut members)
            .map(|m| {
                let (k, span) = m.unwrap();
                (k.into_owned(), span.of(text).to_owned())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a".into(), "1".into()),
                ("bc".into(), r#"{"x":[1]}"#.into()),
                (String::new(), r#""q""#.into()),
            ]
        );
        assert_eq!(members.end(), text.len() - 1);

        let text = "[ 1 , [2] ,\"3\" ]";
        let mut elements = Elements::new(text.as_bytes(), 0);
        let mut starts = Vec::new();
        while let Some(at) = elements.next_start().unwrap() {
            starts.push(at);
            if text.as_bytes()[at] == b'[' {
                elements.resume(value_end(text.as_bytes(), at).unwrap());
            }
        }
        assert_eq!(starts, [2, 6, 11]);
        assert_eq!(elements.end(), text.len());

        for bad in [
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{\"a\":1 \"b\":2}",
            "{1:2}",
            "{\"a\":}",
            "{\"\\x\":1}",
            "{\"a\":1",
            "{",
        ] {
            assert!(Members::new(bad, 0).any(|m| m.is_err()), "{bad}");
        }
        for bad in ["[1,]", "[1 2]", "[1,", "[", "[,1]"] {
            let mut elements = Elements::new(bad.as_bytes(), 0);
            let result = std::iter::from_fn(|| elements.next_start().transpose())
                .collect::<Result<Vec<_>, _>>();
            assert!(result.is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::proptests::{arb_state_json, config};

    proptest! {
        #![proptest_config(config())]

        /// Every valid JSON text is accepted and spans exactly what serde_json reads.
        #[test]
        fn valid_json_spans_agree_with_serde(doc in arb_state_json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            };
            let framed = format!("[ {text} ,0]");
            prop_assert_eq!(value_end(text.as_bytes(), 0).ok(), Some(text.len()));
            prop_assert_eq!(value_end(framed.as_bytes(), 2).ok(), Some(2 + text.len()));
            if text.starts_with('{') {
                let mut members = Members::new(&text, 0);
                let mut n = 0;
                for member in &mut members {
                    let (key, span) = member.unwrap();
                    let want = &doc[&*key];
                    let got: serde_json::Value = serde_json::from_str(span.of(&text)).unwrap();
                    prop_assert_eq!(&got, want);
                    n += 1;
                }
                prop_assert_eq!(n, doc.as_object().unwrap().len());
                prop_assert_eq!(members.end(), text.len());
            }
        }

        /// Arbitrary text never panics, and spans found are within it.
        #[test]
        fn arbitrary_text_never_panics(text in "[\\[\\]{}\":,0-9a-z \\\\-]{0,80}") {
            for i in 0..=text.len() + 1 {
                if let Ok(end) = value_end(text.as_bytes(), i) {
                    prop_assert!(end > i && end <= text.len());
                }
            }
            let walked: Vec<_> = Members::new(&text, 0).collect();
            for (_, span) in walked.into_iter().flatten() {
                prop_assert!(span.end <= text.len());
            }
        }
    }
}
