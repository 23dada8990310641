//! A YAML tree that remembers where every node is written, for the lint (issue 6).
//!
//! Built from `granit-parser` events (the parser under `serde-saphyr`): the first document
//! only, aliases expanded within a budget, every node with its 1-based line and column. A
//! scalar maps any offset of its text back to the file ([`ScalarText`]), block scalars line by
//! line, so a finding inside a `run:` script points at the exact line. No I/O.

use granit_parser::{Event, Options, Parser, ScalarStyle, Span};

/// A 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    pub(crate) fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }
}

/// How a node is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Quoted,
    Literal,
    Folded,
    Collection,
}

/// A node's value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A node and where it is written.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) pos: Pos,
    pub(crate) style: Style,
    /// Byte range in the source, as written (quotes included).
    start: usize,
    end: usize,
    /// Block scalars: the content indentation (0-based).
    indent: u32,
}

/// Why a document could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

/// At most this many nodes are made by expanding aliases (a "billion laughs" guard).
const ALIAS_BUDGET: usize = 100_000;

impl Node {
    fn scalar(text: String, pos: Pos) -> Self {
        Self {
            value: Value::Scalar(text),
            pos,
            style: Style::Plain,
            start: 0,
            end: 0,
            indent: 0,
        }
    }

    /// The scalar's text.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub(crate) fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Whether this is a YAML null (`~`, `null`, or nothing).
    pub(crate) fn is_null(&self) -> bool {
        self.style == Style::Plain
            && matches!(self.as_str(), Some("" | "~" | "null" | "Null" | "NULL"))
    }

    /// The value of `key` in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value of `key` in a mapping.
    pub(crate) fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The text of `key` when it is a scalar.
    pub(crate) fn str_of(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// A scalar or a sequence of scalars, as the scalar nodes (`branches: main` or `[main]`).
    pub(crate) fn scalars(&self) -> Vec<&Node> {
        match &self.value {
            Value::Scalar(_) if !self.is_null() => vec![self],
            Value::Seq(items) => items.iter().filter(|n| n.as_str().is_some()).collect(),
            _ => Vec::new(),
        }
    }

    /// Every scalar value below this node (not mapping keys), in document order.
    pub(crate) fn walk_scalars<'a>(&'a self, out: &mut Vec<&'a Node>) {
        match &self.value {
            Value::Scalar(_) => out.push(self),
            Value::Seq(items) => items.iter().for_each(|n| n.walk_scalars(out)),
            Value::Map(entries) => entries.iter().for_each(|(_, v)| v.walk_scalars(out)),
        }
    }

    /// The scalar's text with the position of each of its characters in `src`.
    pub(crate) fn text(&self, src: &str) -> ScalarText {
        let value = self.as_str().unwrap_or_default();
        let raw = src.get(self.start..self.end).unwrap_or_default();
        match self.style {
            Style::Literal => {
                let leading = value.bytes().take_while(|b| *b == b'\n').count() as u32;
                let mut anchors = Vec::new();
                let mut offset = 0;
                for (k, line) in value.split('\n').enumerate() {
                    let line_no = (self.pos.line + k as u32).saturating_sub(leading);
                    anchors.push((offset, Pos::new(line_no.max(1), self.indent + 1)));
                    offset += line.len() + 1;
                }
                ScalarText {
                    text: value.to_owned(),
                    anchors,
                }
            }
            Style::Folded => folded_text(raw, self.pos, self.indent),
            Style::Plain if raw == value => ScalarText::at(value, self.pos),
            Style::Quoted if raw.len() >= 2 && &raw[1..raw.len() - 1] == value => {
                ScalarText::at(value, Pos::new(self.pos.line, self.pos.column + 1))
            }
            _ => ScalarText::at(value, self.pos),
        }
    }
}

/// A folded block scalar read as written: line breaks become spaces where YAML folds them, so
/// every character keeps its place and the text has the folded value's words.
fn folded_text(raw: &str, pos: Pos, indent: u32) -> ScalarText {
    let raw = raw.trim_end_matches([' ', '\t', '\n', '\r']);
    let mut lines: Vec<&str> = Vec::new();
    for (k, line) in raw.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if k == 0 {
            lines.push(line);
        } else {
            let spaces = line.bytes().take_while(|b| *b == b' ').count();
            lines.push(&line[spaces.min(indent as usize)..]);
        }
    }
    let mut text = String::with_capacity(raw.len());
    let mut anchors = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        if k > 0 {
            let prev = lines[k - 1];
            let plain = |l: &str| !l.is_empty() && !l.starts_with([' ', '\t']);
            text.push(if plain(prev) && plain(line) {
                ' '
            } else {
                '\n'
            });
        }
        anchors.push((text.len(), Pos::new(pos.line + k as u32, indent + 1)));
        text.push_str(line);
    }
    ScalarText { text, anchors }
}

/// A scalar's text and where its characters are in the file.
#[derive(Clone, Debug)]
pub(crate) struct ScalarText {
    pub(crate) text: String,
    /// `(byte offset in text, position of that character)`, ascending.
    anchors: Vec<(usize, Pos)>,
}

impl ScalarText {
    /// Text that starts at `pos` and is written as is.
    pub(crate) fn at(text: &str, pos: Pos) -> Self {
        Self {
            text: text.to_owned(),
            anchors: vec![(0, pos)],
        }
    }

    /// A whole file: offsets map to lines and columns.
    pub(crate) fn file(text: &str) -> Self {
        let mut anchors = vec![(0, Pos::new(1, 1))];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                anchors.push((i + 1, Pos::new(anchors.len() as u32 + 1, 1)));
            }
        }
        Self {
            text: text.to_owned(),
            anchors,
        }
    }

    /// The file position of the character at byte `offset` of the text.
    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let i = self.anchors.partition_point(|(o, _)| *o <= offset);
        let (start, pos) = self.anchors[i.saturating_sub(1)];
        let offset = offset.min(self.text.len());
        let chars = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        Pos::new(pos.line, pos.column + chars as u32)
    }
}

/// Parse the first document of `src`. An empty document is a null scalar.
pub(crate) fn parse(src: &str) -> Result<Node, YamlError> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    let mut builder = Builder::default();
    for event in Parser::new_from_str_with_options(src, options) {
        let (event, span) = event.map_err(|e| YamlError {
            pos: Pos::new(e.marker().line().max(1) as u32, e.marker().col() as u32 + 1),
            message: e.kind().to_string(),
        })?;
        if builder.event(event, span)? {
            break;
        }
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::scalar(String::new(), Pos::new(1, 1))))
}

enum Frame {
    Seq(Node, usize),
    Map(Node, Option<Node>, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    root: Option<Node>,
    expanded: usize,
}

fn pos_of(span: &Span) -> Pos {
    Pos::new(span.start.line().max(1) as u32, span.start.col() as u32 + 1)
}

impl Builder {
    /// Take one event; `true` when the first document is complete.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<bool, YamlError> {
        let start = span.start.byte_offset().unwrap_or(0);
        let end = span.end.byte_offset().unwrap_or(start);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let node = Node {
                    value: Value::Scalar(text.into_owned()),
                    pos: pos_of(&span),
                    style: match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::Literal => Style::Literal,
                        ScalarStyle::Folded => Style::Folded,
                        _ => Style::Quoted,
                    },
                    start,
                    end,
                    indent: span.indent.map_or(span.start.col() as u32, |i| i as u32),
                };
                self.complete(node, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let node = Node {
                    value: Value::Seq(Vec::new()),
                    pos: pos_of(&span),
                    style: Style::Collection,
                    start,
                    end,
                    indent: 0,
                };
                self.stack.push(Frame::Seq(node, anchor));
                Ok(false)
            }
            Event::MappingStart(_, anchor, _) => {
                let node = Node {
                    value: Value::Map(Vec::new()),
                    pos: pos_of(&span),
                    style: Style::Collection,
                    start,
                    end,
                    indent: 0,
                };
                self.stack.push(Frame::Map(node, None, anchor));
                Ok(false)
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(mut node, anchor) | Frame::Map(mut node, None, anchor)) => {
                    node.end = end;
                    self.complete(node, anchor)
                }
                Some(Frame::Map(mut node, Some(key), anchor)) => {
                    // A key without a value (cannot happen with a well-formed stream).
                    if let Value::Map(entries) = &mut node.value {
                        let null = Node::scalar(String::new(), key.pos);
                        entries.push((key, null));
                    }
                    self.complete(node, anchor)
                }
                None => Ok(false),
            },
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    pos: pos_of(&span),
                    message: "alias to an unknown anchor".into(),
                })?;
                self.expanded += count(&node);
                if self.expanded > ALIAS_BUDGET {
                    return Err(YamlError {
                        pos: pos_of(&span),
                        message: format!("aliases expand to more than {ALIAS_BUDGET} nodes"),
                    });
                }
                self.complete(node, 0)
            }
            Event::DocumentEnd => Ok(self.root.is_some()),
            _ => Ok(false),
        }
    }

    /// A node is complete: hand it to its parent.
    fn complete(&mut self, node: Node, anchor: usize) -> Result<bool, YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq(parent, _)) => {
                if let Value::Seq(items) = &mut parent.value {
                    items.push(node);
                }
            }
            Some(Frame::Map(parent, key, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if let Value::Map(entries) = &mut parent.value {
                        if k.as_str() == Some("<<") && k.style == Style::Plain {
                            merge(entries, node);
                        } else {
                            entries.push((k, node));
                        }
                    }
                }
            },
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
        Ok(false)
    }
}

/// `<<: *base` merge keys: the merged mapping's entries that are not set already.
fn merge(entries: &mut Vec<(Node, Node)>, value: Node) {
    let sources = match value.value {
        Value::Map(_) => vec![value],
        Value::Seq(items) => items,
        Value::Scalar(_) => return,
    };
    for source in sources {
        if let Value::Map(more) = source.value {
            for (k, v) in more {
                if !entries.iter().any(|(e, _)| e.as_str() == k.as_str()) {
                    entries.push((k, v));
                }
            }
        }
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Scalar(_) => 1,
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let src = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n";
        let root = parse(src).unwrap();
        let (key, value) = root.get("jobs").unwrap().entry("build").unwrap();
        assert_eq!(key.pos, Pos::new(3, 3));
        assert_eq!(value.str_of("runs-on"), Some("ubuntu-latest"));
        assert_eq!(value.get("runs-on").unwrap().pos, Pos::new(4, 14));
    }

    #[test]
    fn literal_block_maps_lines() {
        let src = "run: |\n\n  echo one\n    echo $X\n";
        let root = parse(src).unwrap();
        let text = root.get("run").unwrap().text(src);
        let at = text.text.find("$X").unwrap();
        assert_eq!(text.pos(at), Pos::new(4, 10));
        assert_eq!(text.pos(text.text.find("one").unwrap()), Pos::new(3, 8));
    }

    #[test]
    fn folded_and_quoted_scalars_map_columns() {
        let src = "a: >\n  one $A\n  two $B\nb: \"x $C\"\n";
        let root = parse(src).unwrap();
        let a = root.get("a").unwrap().text(src);
        assert_eq!(a.text, "one $A two $B");
        assert_eq!(a.pos(a.text.find("$B").unwrap()), Pos::new(3, 7));
        let b = root.get("b").unwrap().text(src);
        assert_eq!(b.pos(b.text.find("$C").unwrap()), Pos::new(4, 7));
    }

    #[test]
    fn aliases_and_merge_keys_expand() {
        let src = "base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  y: 2\n";
        let root = parse(src).unwrap();
        assert_eq!(root.get("use").unwrap().str_of("x"), Some("1"));
        assert_eq!(root.get("merged").unwrap().str_of("x"), Some("1"));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            src.push_str(&format!(
                "{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                n = (b'a' + i) as char,
                p = (b'a' + i - 1) as char
            ));
        }
        assert!(parse(&src).unwrap_err().message.contains("aliases"));
    }

    #[test]
    fn errors_have_positions() {
        let err = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
    }
}
