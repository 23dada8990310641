//! Streaming JSON: split a `kubectl get -o json` stream into its objects without holding the
//! whole document in memory.
//!
//! serde_json's reader interface goes byte by byte and would hold a whole `List` at once; this
//! scanner keeps a window of the input and parses each element of a top-level object's `items`
//! array straight from it with serde_json's slice parser (one pass; an element cut by the window's
//! end is parsed again once more input is in). Top-level values and the other keys of a
//! top-level object are delimited by a small byte scanner. Memory stays at the largest single
//! object; speed is that of parsing from memory.

use std::io::{self, Read};

use serde::de::DeserializeOwned;

/// What the scanner yields.
pub(super) enum Piece<'a, T> {
    /// A whole top-level value that is not an object (an array's elements come one by one).
    Value(&'a [u8]),
    /// One element of a top-level object's `items` array, parsed.
    Item(T),
    /// A top-level object without its `items` (rebuilt JSON), and whether it had `items`.
    Head(Vec<u8>, bool),
}

/// A syntax error or I/O failure, with the byte offset.
#[derive(Debug)]
pub(super) enum ScanError {
    Io(io::Error),
    Syntax { offset: u64, message: String },
}

const CHUNK: usize = 256 * 1024;

/// A sliding window over a reader.
pub(super) struct Scanner<R> {
    reader: R,
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`.
    pos: usize,
    /// End of valid data in `buf`.
    end: usize,
    /// Bytes dropped from the front of `buf` so far (for offsets).
    dropped: u64,
    eof: bool,
}

impl<R: Read> Scanner<R> {
    pub(super) fn new(reader: R) -> Self {
        Self {
            reader,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
            dropped: 0,
            eof: false,
        }
    }

    fn offset(&self) -> u64 {
        self.dropped + self.pos as u64
    }

    fn syntax(&self, message: impl Into<String>) -> ScanError {
        ScanError::Syntax {
            offset: self.offset(),
            message: message.into(),
        }
    }

    /// Read more input, keeping `buf[pos..end]`; false at end of input.
    fn fill(&mut self) -> Result<bool, ScanError> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.dropped += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ScanError::Io(e)),
            }
        }
    }

    /// The next non-whitespace byte, not consumed; `None` at end of input.
    fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    self.pos += 1;
                } else {
                    return Ok(Some(b));
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), ScanError> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(self.syntax(format!(
                "expected `{}`, found `{}`",
                byte as char, b as char
            ))),
            None => Err(self.syntax(format!("expected `{}`, found the end", byte as char))),
        }
    }

    /// The length of the complete value starting at `pos` (after whitespace), reading as much
    /// input as it takes.
    fn value_len(&mut self) -> Result<usize, ScanError> {
        let Some(first) = self.peek()? else {
            return Err(self.syntax("expected a value, found the end"));
        };
        let mut i = 0usize; // scanned, relative to pos
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        loop {
            let window = &self.buf[self.pos..self.end];
            while i < window.len() {
                let b = window[i];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                } else if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        return Ok(i);
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                return Ok(i + 1);
                            }
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            if !self.fill()? {
                if scalar && i > 0 {
                    return Ok(i);
                }
                return Err(self.syntax("unexpected end of input inside a value"));
            }
        }
    }

    /// Parse the value at `pos` as `T` straight from the window, reading more input when the
    /// window ends inside it.
    fn parse_value<T: DeserializeOwned>(&mut self) -> Result<T, ScanError> {
        loop {
            let at = self.offset();
            let slice = &self.buf[self.pos..self.end];
            let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<T>();
            match stream.next() {
                Some(Ok(value)) => {
                    self.pos += stream.byte_offset();
                    return Ok(value);
                }
                Some(Err(e)) if e.is_eof() => {
                    if !self.fill()? {
                        return Err(ScanError::Syntax {
                            offset: at,
                            message: "unexpected end of input inside a value".into(),
                        });
                    }
                }
                Some(Err(e)) => {
                    return Err(ScanError::Syntax {
                        offset: at,
                        message: e.to_string(),
                    });
                }
                None => {
                    if !self.fill()? {
                        return Err(self.syntax("expected a value, found the end"));
                    }
                }
            }
        }
    }

    /// Visit every piece of the stream, in order; `items` elements are parsed as `T`.
    pub(super) fn for_each<T: DeserializeOwned>(
        &mut self,
        mut visit: impl FnMut(Piece<'_, T>, u64) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        while let Some(b) = self.peek()? {
            match b {
                b'{' => self.object(&mut visit)?,
                b'[' => {
                    self.pos += 1;
                    loop {
                        match self.peek()? {
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b',') => self.pos += 1,
                            Some(_) => {
                                let at = self.offset();
                                let len = self.value_len()?;
                                visit(Piece::Value(&self.buf[self.pos..self.pos + len]), at)?;
                                self.pos += len;
                            }
                            None => return Err(self.syntax("unterminated array")),
                        }
                    }
                }
                _ => {
                    let at = self.offset();
                    let len = self.value_len()?;
                    visit(Piece::Value(&self.buf[self.pos..self.pos + len]), at)?;
                    self.pos += len;
                }
            }
        }
        Ok(())
    }

    /// A top-level object: its `items` elements one by one, then the rest as a head.
    fn object<T: DeserializeOwned>(
        &mut self,
        visit: &mut impl FnMut(Piece<'_, T>, u64) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        let start = self.offset();
        self.expect(b'{')?;
        let mut head = Vec::with_capacity(256);
        head.push(b'{');
        let mut had_items = false;
        loop {
            match self.peek()? {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b'"') => {}
                Some(other) => {
                    return Err(
                        self.syntax(format!("expected a key or `}}`, found `{}`", other as char))
                    );
                }
                None => return Err(self.syntax("unterminated object")),
            }
            let len = self.value_len()?;
            let key_raw = self.buf[self.pos..self.pos + len].to_vec();
            self.pos += len;
            self.expect(b':')?;
            let is_items = key_raw == b"\"items\"";
            if is_items && self.peek()? == Some(b'[') {
                had_items = true;
                self.pos += 1;
                loop {
                    match self.peek()? {
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b',') => self.pos += 1,
                        Some(_) => {
                            let at = self.offset();
                            let item = self.parse_value::<T>()?;
                            visit(Piece::Item(item), at)?;
                        }
                        None => return Err(self.syntax("unterminated `items` array")),
                    }
                }
                continue;
            }
            self.peek()?;
            let len = self.value_len()?;
            if head.len() > 1 {
                head.push(b',');
            }
            head.extend_from_slice(&key_raw);
            head.push(b':');
            head.extend_from_slice(&self.buf[self.pos..self.pos + len]);
            self.pos += len;
        }
        head.push(b'}');
        visit(Piece::Head(head, had_items), start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &str, chunk: usize) -> Vec<String> {
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(self.1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        Scanner::new(Slow(input.as_bytes(), chunk))
            .for_each(|piece: Piece<'_, serde_json::Value>, _| {
                out.push(match piece {
                    Piece::Value(v) => format!("value {}", String::from_utf8_lossy(v)),
                    Piece::Item(v) => format!("item {v}"),
                    Piece::Head(v, items) => {
                        format!("head {} {items}", String::from_utf8_lossy(&v))
                    }
                });
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn splits_lists_objects_and_arrays() {
        let input = r#"{"apiVersion": "v1", "items": [ {"a": "}]\"{"}, {"b": [1, {"c": 2}]} ], "kind": "List", "metadata": {"resourceVersion": ""}}
{"kind":"ConfigMap","data":{"x":"y"}} [ {"k":1}, 2 ] true"#;
        for chunk in [1, 3, 7, 1 << 20] {
            assert_eq!(
                pieces(input, chunk),
                vec![
                    r#"item {"a":"}]\"{"}"#.to_owned(),
                    r#"item {"b":[1,{"c":2}]}"#.to_owned(),
                    r#"head {"apiVersion":"v1","kind":"List","metadata":{"resourceVersion": ""}} true"#
                        .to_owned(),
                    r#"head {"kind":"ConfigMap","data":{"x":"y"}} false"#.to_owned(),
                    r#"value {"k":1}"#.to_owned(),
                    "value 2".to_owned(),
                    "value true".to_owned(),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn reports_truncation() {
        let err = Scanner::new(r#"{"items": [{"a": 1}, {"b":"#.as_bytes())
            .for_each(|_: Piece<'_, serde_json::Value>, _| Ok(()))
            .unwrap_err();
        assert!(matches!(err, ScanError::Syntax { .. }));
    }
}
