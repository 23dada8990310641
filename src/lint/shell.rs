//! A shell script scanner for the lint: bash's lexical rules (quotes, escapes, `$…` and
//! `${…}` expansions, `$(…)` and backticks, here-documents, comments, `[[ … ]]`, `case`
//! patterns, arithmetic) and enough structure (simple commands, pipelines, groups, loops,
//! functions, `cd`) to say which variables a script reads and defines, which commands it runs,
//! and what it writes to `$GITHUB_ENV`. Not a shell parser: it never fails, and anything it
//! cannot follow (`eval`, dynamic `$GITHUB_ENV` writes) is reported as such. Pure.

/// What a script reads, defines and runs.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Variable reads, in source order.
    pub(crate) refs: Vec<VarRef>,
    /// Variable definitions (assignments, `export`, `read`, `for`, …).
    pub(crate) defs: Vec<Def>,
    /// Simple commands, in source order.
    pub(crate) commands: Vec<Command>,
    /// Offsets from which the script may define anything (`eval`).
    pub(crate) opaque: Vec<usize>,
    /// Names written to `$GITHUB_ENV`.
    pub(crate) env_writes: Vec<(String, usize)>,
    /// The first write to `$GITHUB_ENV` whose names cannot be known.
    pub(crate) env_dynamic: Option<usize>,
    /// `stackwire env` runs that write to `$GITHUB_ENV`: offset and `--stack` names.
    pub(crate) stackwire_env: Vec<(usize, Vec<String>)>,
}

/// A variable read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VarRef {
    pub(crate) name: String,
    /// Byte offset of the `$`.
    pub(crate) offset: usize,
    /// Inside a loop or function body: a definition anywhere in the script counts.
    pub(crate) deferred: bool,
    /// Read in a way that copes with an unset variable (`${X:-…}`, `${X+…}`, `[ -z "$X" ]`).
    pub(crate) guarded: bool,
}

/// A variable definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Def {
    pub(crate) name: String,
    pub(crate) offset: usize,
    /// Passed on to child processes.
    pub(crate) exported: bool,
    /// The value, when it is literal text.
    pub(crate) value: Option<String>,
}

/// A word: its text with quotes removed (expansions kept as written), and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// No expansion at all: the text is exactly what the command receives.
    pub(crate) literal: bool,
}

/// A redirection: operator (with its fd, `2>>`) and target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Redirect {
    pub(crate) op: String,
    pub(crate) target: Word,
}

/// The directory a command runs in, relative to where the script started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cwd {
    /// Relative to the script's starting directory (`""`: that directory).
    Rel(String),
    /// Relative to `$GITHUB_WORKSPACE`.
    Workspace(String),
    Unknown,
}

/// A simple command.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    /// Every word, leading assignments included.
    pub(crate) words: Vec<Word>,
    /// How many leading words are assignments (`X=1 cmd`).
    pub(crate) assigns: usize,
    pub(crate) redirects: Vec<Redirect>,
    /// The here-document's body, when the command has one.
    pub(crate) heredoc: Option<String>,
    pub(crate) offset: usize,
    pub(crate) cwd: Cwd,
    /// Enclosing groups, loops and subshells (ids), outermost first.
    frames: Vec<u32>,
    /// Pipeline id and position in it.
    pipeline: u32,
}

/// Commands that run the next word as the program.
const WRAPPERS: &[&str] = &[
    "sudo", "env", "exec", "nohup", "time", "command", "builtin", "nice", "timeout",
];

impl Command {
    /// The words after the leading assignments.
    pub(crate) fn argv(&self) -> &[Word] {
        &self.words[self.assigns..]
    }

    /// The program and its arguments, wrappers (`sudo`, `env X=1`, `timeout 5`, …) skipped.
    pub(crate) fn program(&self) -> &[Word] {
        let mut argv = self.argv();
        while let Some(first) = argv.first() {
            let name = basename(&first.text);
            if !WRAPPERS.contains(&name) {
                break;
            }
            let mut k = 1;
            while let Some(w) = argv.get(k) {
                let t = w.text.as_str();
                let takes_value = matches!(
                    (name, t),
                    ("sudo", "-u" | "-g" | "-C")
                        | ("timeout", "-s" | "-k")
                        | ("nice", "-n")
                        | ("env", "-u" | "-C")
                );
                if t.starts_with('-') {
                    k += if takes_value { 2 } else { 1 };
                } else if (name == "env" && is_assignment(t))
                    || (name == "timeout" && t.starts_with(|c: char| c.is_ascii_digit()))
                {
                    k += 1;
                } else {
                    break;
                }
            }
            argv = argv.get(k..).unwrap_or_default();
        }
        argv
    }

    /// The program's name (basename of the first word after wrappers).
    pub(crate) fn name(&self) -> Option<&str> {
        self.program().first().map(|w| basename(&w.text))
    }

    /// Whether stdout goes to `$GITHUB_ENV` by a redirection of this command.
    fn stdout_redirect(&self) -> Option<bool> {
        stdout_target(&self.redirects)
    }
}

/// `Some(true)` when stdout is redirected to `$GITHUB_ENV`, `Some(false)` elsewhere, `None`
/// when not redirected.
fn stdout_target(redirects: &[Redirect]) -> Option<bool> {
    let mut out = None;
    for r in redirects {
        if matches!(
            r.op.as_str(),
            ">" | ">>" | "1>" | "1>>" | ">|" | "&>" | "&>>"
        ) {
            out = Some(is_github_env(&r.target.text));
        }
    }
    out
}

/// `$GITHUB_ENV` or `${GITHUB_ENV}` (quotes already removed).
pub(crate) fn is_github_env(text: &str) -> bool {
    matches!(text, "$GITHUB_ENV" | "${GITHUB_ENV}")
}

/// The last path component.
pub(crate) fn basename(text: &str) -> &str {
    text.rsplit('/').next().unwrap_or(text)
}

/// `NAME=…` (or `NAME+=…`) with a valid name.
pub(crate) fn is_assignment(text: &str) -> bool {
    assignment_name(text).is_some()
}

fn assignment_name(text: &str) -> Option<&str> {
    let eq = text.find('=')?;
    let name = text[..eq].trim_end_matches('+');
    let name = name.split('[').next().unwrap_or(name);
    valid_name(name).then_some(name)
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut b = name.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

impl Scan {
    /// Whether `name` is defined before `offset` (anywhere, when `deferred`).
    pub(crate) fn defines(&self, name: &str, offset: usize, deferred: bool) -> bool {
        self.defs
            .iter()
            .any(|d| d.name == name && (deferred || d.offset < offset))
    }

    /// Whether anything could be defined before `offset` (an `eval` ran).
    pub(crate) fn opaque_before(&self, offset: usize) -> bool {
        self.opaque.iter().any(|o| *o < offset)
    }

    /// The literal value of `name` as last assigned before `offset`.
    pub(crate) fn value_before(&self, name: &str, offset: usize) -> Option<&str> {
        self.defs
            .iter()
            .rev()
            .find(|d| d.name == name && d.offset < offset)
            .and_then(|d| d.value.as_deref())
    }

    /// Names exported before `offset` (what a child process inherits).
    pub(crate) fn exported_before(&self, offset: usize) -> Vec<&str> {
        self.defs
            .iter()
            .filter(|d| d.exported && d.offset < offset)
            .map(|d| d.name.as_str())
            .collect()
    }
}

/// Replace `$NAME` and `${NAME}` in `text` with `lookup(NAME)`; `Err(name)` for the first one
/// that has no value. `${{ … }}` is left alone.
pub(crate) fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'{') && b.get(i + 2) == Some(&b'{') {
            i = crate::lint::expr::block_end(b, i + 3).unwrap_or(b.len());
            continue;
        }
        let (name, end) = if b.get(i + 1) == Some(&b'{') {
            let close = text[i..].find('}').map(|c| i + c);
            match close {
                Some(c) => (&text[i + 2..c], c + 1),
                None => return Err(text[i..].to_owned()),
            }
        } else {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            (&text[i + 1..j], j)
        };
        if name.is_empty() {
            i += 1;
            continue;
        }
        if !valid_name(name) {
            return Err(name.to_owned());
        }
        let value = lookup(name).ok_or_else(|| name.to_owned())?;
        out.push_str(&text[last..i]);
        out.push_str(&value);
        i = end;
        last = end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// The length of the UTF-8 character whose first byte is `b` (1 for a stray continuation).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Scan `script`.
pub(crate) fn scan(script: &str) -> Scan {
    let mut lexer = Lexer {
        s: script.as_bytes(),
        src: script,
        i: 0,
        limit: script.len(),
        out: Scan::default(),
        cmd: Cmd::default(),
        frames: Vec::new(),
        next_frame: 1,
        next_pipeline: 1,
        frame_redirects: Vec::new(),
        heredocs: Vec::new(),
        cwd: Cwd::Rel(String::new()),
        dirs: Vec::new(),
        allexport: false,
        header: 0,
        closed: None,
        pending_function: false,
        depth: 0,
    };
    lexer.list(false);
    lexer.end_command(Sep::End);
    lexer.finish()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameKind {
    Group,
    Subshell,
    Loop,
    Function,
    Case { pattern: bool },
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    id: u32,
    /// The directory to return to when a subshell closes.
    saved_cwd: Option<Cwd>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    None,
    /// `for`/`select`: the next word is the loop variable.
    LoopVar,
    /// Words up to the end of the command are data (`for x in a b c`).
    Data,
    /// `case`: the subject, then `in`.
    CaseWord,
    CaseIn,
    /// `function`: the name.
    FunctionName,
}

#[derive(Debug)]
struct Cmd {
    words: Vec<Word>,
    assigns: usize,
    assign_defs: Vec<Def>,
    redirects: Vec<Redirect>,
    expect: Expect,
    test: bool,
    pipeline: u32,
    /// Refs index where this command started (to mark test operands).
    first_ref: usize,
}

impl Default for Cmd {
    fn default() -> Self {
        Self {
            words: Vec::new(),
            assigns: 0,
            assign_defs: Vec::new(),
            redirects: Vec::new(),
            expect: Expect::None,
            test: false,
            pipeline: 0,
            first_ref: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    Pipe,
    Other,
    End,
}

struct PendingHeredoc {
    delim: String,
    strip_tabs: bool,
    expand: bool,
    command: Option<usize>,
}

struct Lexer<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    limit: usize,
    out: Scan,
    cmd: Cmd,
    frames: Vec<Frame>,
    next_frame: u32,
    next_pipeline: u32,
    frame_redirects: Vec<(u32, Redirect)>,
    heredocs: Vec<PendingHeredoc>,
    cwd: Cwd,
    dirs: Vec<Cwd>,
    allexport: bool,
    /// Inside a `while`/`until`/`for` header (before `do`).
    header: u32,
    /// A group just closed: redirections that follow apply to it.
    closed: Option<u32>,
    pending_function: bool,
    /// Nesting of `$(…)`, backticks and `${…}` (a recursion bound).
    depth: u32,
}

const MAX_DEPTH: u32 = 64;

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        let j = self.i + k;
        (j < self.limit).then(|| self.s[j])
    }

    /// Step over a backslash and the character it escapes.
    fn skip_escape(&mut self) {
        self.i += 1;
        if self.i < self.limit {
            self.i += char_len(self.s[self.i]);
        }
        self.i = self.i.min(self.limit);
    }

    /// `src[a..b]`, or `""` when that is not a character range.
    fn sub(&self, a: usize, b: usize) -> &str {
        self.src.get(a..b).unwrap_or("")
    }

    fn deferred(&self) -> bool {
        self.header > 0
            || self
                .frames
                .iter()
                .any(|f| matches!(f.kind, FrameKind::Loop | FrameKind::Function))
    }

    fn add_ref(&mut self, name: &str, offset: usize, guarded: bool) {
        let deferred = self.deferred();
        self.out.refs.push(VarRef {
            name: name.to_owned(),
            offset,
            deferred,
            guarded,
        });
    }

    fn add_def(&mut self, name: &str, offset: usize, exported: bool, value: Option<String>) {
        if valid_name(name) {
            self.out.defs.push(Def {
                name: name.to_owned(),
                offset,
                exported: exported || self.allexport,
                value,
            });
        }
    }

    /// Read commands until the end, or an unmatched `)` when `closing`.
    fn list(&mut self, closing: bool) {
        let base = self.frames.len();
        while self.i < self.limit {
            if matches!(
                self.frames.last(),
                Some(Frame {
                    kind: FrameKind::Case { pattern: true },
                    ..
                })
            ) && self.cmd.words.is_empty()
            {
                if !self.case_pattern() {
                    break;
                }
                continue;
            }
            let c = self.s[self.i];
            if self.cmd.test {
                let two = (c, self.peek(1));
                let len = match two {
                    (b'&', Some(b'&')) | (b'|', Some(b'|')) => 2,
                    (b'(' | b')' | b'<' | b'>' | b'!', _) => 1,
                    _ => 0,
                };
                if len > 0 {
                    let text = self.sub(self.i, self.i + len).to_owned();
                    self.cmd.words.push(Word {
                        text,
                        start: self.i,
                        end: self.i + len,
                        literal: true,
                    });
                    self.i += len;
                    continue;
                }
            }
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\\' if self.peek(1) == Some(b'\n') => self.i += 2,
                b'\\' if self.peek(1) == Some(b'\r') && self.peek(2) == Some(b'\n') => {
                    self.i += 3;
                }
                b'\n' => {
                    self.i += 1;
                    self.end_command(Sep::Other);
                    self.read_heredocs();
                }
                b'#' => {
                    while self.i < self.limit && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b';' => {
                    let case_end = self.peek(1) == Some(b';')
                        || (self.peek(1) == Some(b'&') && self.in_case());
                    self.i += 1;
                    while matches!(self.peek(0), Some(b';' | b'&')) {
                        self.i += 1;
                    }
                    self.end_command(Sep::Other);
                    if case_end {
                        self.set_case_pattern(true);
                    }
                }
                b'&' => {
                    if self.peek(1) == Some(b'>') {
                        self.redirect(String::new());
                    } else {
                        self.i += if self.peek(1) == Some(b'&') { 2 } else { 1 };
                        self.end_command(Sep::Other);
                    }
                }
                b'|' => {
                    if self.peek(1) == Some(b'|') {
                        self.i += 2;
                        self.end_command(Sep::Other);
                    } else {
                        self.i += if self.peek(1) == Some(b'&') { 2 } else { 1 };
                        self.end_command(Sep::Pipe);
                    }
                }
                b'(' => self.open_paren(),
                b')' => {
                    if closing && self.frames.len() <= base {
                        break;
                    }
                    self.i += 1;
                    self.end_command(Sep::Other);
                    self.close(FrameKind::Subshell);
                }
                b'<' | b'>' => self.redirect(String::new()),
                _ => self.word_token(),
            }
        }
    }

    fn in_case(&self) -> bool {
        matches!(
            self.frames.last().map(|f| f.kind),
            Some(FrameKind::Case { .. })
        )
    }

    fn set_case_pattern(&mut self, pattern: bool) {
        if let Some(f) = self.frames.last_mut() {
            if let FrameKind::Case { .. } = f.kind {
                f.kind = FrameKind::Case { pattern };
            }
        }
    }

    fn open(&mut self, kind: FrameKind) {
        let id = self.next_frame;
        self.next_frame += 1;
        let saved_cwd =
            matches!(kind, FrameKind::Subshell | FrameKind::Function).then(|| self.cwd.clone());
        self.frames.push(Frame {
            kind,
            id,
            saved_cwd,
        });
    }

    /// Close the innermost frame of `kind` (a group closes a function body too).
    fn close(&mut self, kind: FrameKind) {
        let matches = |k: FrameKind| match kind {
            FrameKind::Group => matches!(k, FrameKind::Group | FrameKind::Function),
            FrameKind::Subshell => matches!(k, FrameKind::Subshell | FrameKind::Function),
            FrameKind::Case { .. } => matches!(k, FrameKind::Case { .. }),
            other => k == other,
        };
        if let Some(pos) = self.frames.iter().rposition(|f| matches(f.kind)) {
            let frame = self.frames.remove(pos);
            self.frames.truncate(pos);
            if let Some(cwd) = frame.saved_cwd {
                self.cwd = cwd;
            }
            self.closed = Some(frame.id);
        }
    }

    fn open_paren(&mut self) {
        if self.cmd.words.is_empty() && self.peek(1) == Some(b'(') {
            // `(( … ))` arithmetic command.
            let start = self.i + 2;
            let (inner, after) = self.arith_end(start);
            self.arithmetic(start, inner);
            self.i = after;
            return;
        }
        let one_word = self.cmd.words.len() == 1 && self.cmd.assigns == 0;
        if one_word {
            let mut j = self.i + 1;
            while j < self.limit && matches!(self.s[j], b' ' | b'\t') {
                j += 1;
            }
            if j < self.limit && self.s[j] == b')' {
                // `name() …`: a function definition.
                self.cmd.words.clear();
                self.i = j + 1;
                self.pending_function = true;
                return;
            }
        }
        self.i += 1;
        self.end_command(Sep::Other);
        let kind = if std::mem::take(&mut self.pending_function) {
            FrameKind::Function
        } else {
            FrameKind::Subshell
        };
        self.open(kind);
    }

    /// After `((` or `$((` whose body starts at `start`: where the body ends (the matching
    /// `))`) and the index after it; the end of input when unmatched.
    fn arith_end(&self, start: usize) -> (usize, usize) {
        let mut depth = 0i32;
        let mut j = start;
        while j < self.limit {
            match self.s[j] {
                b'(' => depth += 1,
                b')' if depth > 0 => depth -= 1,
                b')' if self.s.get(j + 1) == Some(&b')') && j + 1 < self.limit => {
                    return (j, j + 2);
                }
                _ => {}
            }
            j += 1;
        }
        (self.limit, self.limit)
    }

    /// Arithmetic text: `$X` reads, and bare names assigned (`i=0`, `i++`, `n+=2`).
    fn arithmetic(&mut self, start: usize, end: usize) {
        let saved = (self.i, self.limit);
        self.limit = end.min(saved.1);
        self.i = start;
        while self.i < self.limit {
            let c = self.s[self.i];
            if c == b'$' {
                let mut sink = Vec::new();
                self.dollar(&mut sink);
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'_' {
                let s = self.i;
                while self.i < self.limit
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                let name = self.sub(s, self.i).to_owned();
                let rest = self.sub(self.i, self.limit).trim_start();
                let before = self.sub(start, s).trim_end();
                let assigned = (rest.starts_with('=') && !rest.starts_with("=="))
                    || [
                        "+=", "-=", "*=", "/=", "%=", "++", "--", "<<=", ">>=", "&=", "|=", "^=",
                    ]
                    .iter()
                    .any(|op| rest.starts_with(op))
                    || before.ends_with("++")
                    || before.ends_with("--");
                if assigned {
                    self.add_def(&name, s, false, None);
                }
                continue;
            }
            self.i += 1;
        }
        self.i = saved.0;
        self.limit = saved.1;
    }

    fn word_token(&mut self) {
        if self.cmd.words.is_empty() {
            self.cmd.first_ref = self.out.refs.len();
        }
        let at_command = self.cmd.words.len() == self.cmd.assigns
            && self.cmd.expect == Expect::None
            && !self.cmd.test;
        let start = self.i;
        let (word, assign) = self.read_word(at_command);
        if self.i == start {
            // A character no rule consumed: step over it.
            self.i += 1;
            return;
        }
        // `2>file`: a file-descriptor number right before a redirection.
        if word.literal
            && !word.text.is_empty()
            && word.text.bytes().all(|b| b.is_ascii_digit())
            && matches!(self.peek(0), Some(b'<' | b'>'))
        {
            self.redirect(word.text);
            return;
        }
        if self.cmd.test {
            let end = word.text == "]]";
            self.cmd.words.push(word);
            if end {
                self.cmd.test = false;
            }
            return;
        }
        match self.cmd.expect {
            Expect::LoopVar => {
                if word.text == "((" || word.text.starts_with("((") {
                    self.cmd.expect = Expect::Data;
                } else {
                    self.add_def(&word.text, word.start, false, None);
                    self.cmd.expect = Expect::Data;
                }
                return;
            }
            Expect::Data => return,
            Expect::CaseWord => {
                self.cmd.expect = Expect::CaseIn;
                return;
            }
            Expect::CaseIn => {
                self.cmd.expect = Expect::None;
                self.open(FrameKind::Case { pattern: true });
                return;
            }
            Expect::FunctionName => {
                self.cmd.expect = Expect::None;
                self.pending_function = true;
                // `function name()`: skip the parentheses.
                let rest = self.sub(self.i, self.limit);
                let trimmed = rest.trim_start_matches([' ', '\t']);
                if trimmed.starts_with("()") {
                    self.i += rest.len() - trimmed.len() + 2;
                }
                return;
            }
            Expect::None => {}
        }
        if at_command && word.literal && assign.is_none() {
            match word.text.as_str() {
                "{" => {
                    self.end_command(Sep::Other);
                    let kind = if std::mem::take(&mut self.pending_function) {
                        FrameKind::Function
                    } else {
                        FrameKind::Group
                    };
                    self.open(kind);
                    return;
                }
                "}" => {
                    self.end_command(Sep::Other);
                    self.close(FrameKind::Group);
                    return;
                }
                "do" => {
                    self.header = self.header.saturating_sub(1);
                    self.open(FrameKind::Loop);
                    return;
                }
                "done" => {
                    self.close(FrameKind::Loop);
                    return;
                }
                "esac" => {
                    self.close(FrameKind::Case { pattern: false });
                    return;
                }
                "while" | "until" => {
                    self.header += 1;
                    return;
                }
                "for" | "select" => {
                    self.header += 1;
                    self.cmd.expect = Expect::LoopVar;
                    return;
                }
                "case" => {
                    self.cmd.expect = Expect::CaseWord;
                    return;
                }
                "function" => {
                    self.cmd.expect = Expect::FunctionName;
                    return;
                }
                "then" | "else" | "elif" | "if" | "fi" | "!" | "in" => return,
                "[[" => {
                    self.cmd.test = true;
                    self.cmd.words.push(word);
                    return;
                }
                _ => {}
            }
        }
        self.pending_function = false;
        if let Some((name, value)) = assign {
            if at_command {
                let exported = false;
                self.cmd.assign_defs.push(Def {
                    name,
                    offset: word.start,
                    exported,
                    value,
                });
                self.cmd.assigns += 1;
            }
        }
        self.cmd.words.push(word);
    }

    /// Read one word. With `at_command`, `NAME=value` is an assignment: `(name, literal value)`.
    fn read_word(&mut self, at_command: bool) -> (Word, Option<(String, Option<String>)>) {
        let start = self.i;
        let mut text: Vec<u8> = Vec::new();
        let mut literal = true;
        let mut assign: Option<(String, usize)> = None;
        while self.i < self.limit {
            let c = self.s[self.i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'<' | b'>' | b')' => break,
                b'(' => {
                    let extglob = matches!(text.last(), Some(b'@' | b'!' | b'+' | b'*' | b'?'));
                    if assign.is_some() && text.last() == Some(&b'=') {
                        // `arr=( a b )`.
                        self.i += 1;
                        literal = false;
                        self.array_body();
                        continue;
                    }
                    if !extglob {
                        break;
                    }
                    let mut depth = 0;
                    while self.i < self.limit {
                        let ch = self.s[self.i];
                        text.push(ch);
                        self.i += 1;
                        if ch == b'(' {
                            depth += 1;
                        } else if ch == b')' {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
                b'\\' => {
                    match self.peek(1) {
                        Some(b'\n') => {}
                        Some(_) => {
                            let n = char_len(self.s[self.i + 1]);
                            let end = (self.i + 1 + n).min(self.limit);
                            text.extend_from_slice(&self.s[self.i + 1..end]);
                        }
                        None => text.push(b'\\'),
                    }
                    self.skip_escape();
                }
                b'\'' => {
                    self.i += 1;
                    while self.i < self.limit && self.s[self.i] != b'\'' {
                        text.push(self.s[self.i]);
                        self.i += 1;
                    }
                    self.i = (self.i + 1).min(self.limit);
                }
                b'"' => {
                    if !self.double_quoted(&mut text) {
                        literal = false;
                    }
                }
                b'`' => {
                    literal = false;
                    self.backtick(&mut text);
                }
                b'$' => {
                    if !self.dollar(&mut text) {
                        literal = false;
                    }
                }
                b'=' if at_command && assign.is_none() && literal => {
                    let so_far = String::from_utf8_lossy(&text).into_owned();
                    let name = so_far.trim_end_matches('+');
                    let name = name.split('[').next().unwrap_or(name);
                    if valid_name(name) {
                        assign = Some((name.to_owned(), text.len() + 1));
                    }
                    text.push(b'=');
                    self.i += 1;
                }
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let assign = assign.map(|(name, at)| {
            let value = text.get(at..).map(str::to_owned);
            // Only a value without expansions is known.
            let value = value.filter(|_| literal || !self.sub(start, self.i).contains(['$', '`']));
            (name, value)
        });
        (
            Word {
                text,
                start,
                end: self.i,
                literal,
            },
            assign,
        )
    }

    /// `( a b )` after `arr=`: elements are words (expansions read).
    fn array_body(&mut self) {
        while self.i < self.limit {
            match self.s[self.i] {
                b')' => {
                    self.i += 1;
                    return;
                }
                b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                b'#' => {
                    while self.i < self.limit && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => {
                    let before = self.i;
                    let _ = self.read_word(false);
                    if self.i == before {
                        self.i += 1;
                    }
                }
            }
        }
    }

    /// `"…"` at `self.i`: appends the content; `true` when it had no expansion.
    fn double_quoted(&mut self, text: &mut Vec<u8>) -> bool {
        self.i += 1;
        let mut literal = true;
        while self.i < self.limit && self.s[self.i] != b'"' {
            match self.s[self.i] {
                b'\\' => {
                    match self.peek(1) {
                        Some(b'\n') => {}
                        Some(n @ (b'$' | b'`' | b'"' | b'\\')) => text.push(n),
                        Some(_) => {
                            text.push(b'\\');
                            let n = char_len(self.s[self.i + 1]);
                            let end = (self.i + 1 + n).min(self.limit);
                            text.extend_from_slice(&self.s[self.i + 1..end]);
                        }
                        None => text.push(b'\\'),
                    }
                    self.skip_escape();
                }
                b'$' => {
                    if !self.dollar(text) {
                        literal = false;
                    }
                }
                b'`' => {
                    literal = false;
                    self.backtick(text);
                }
                c => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        self.i = (self.i + 1).min(self.limit);
        literal
    }

    /// A `` `…` `` command substitution at `self.i`: scanned as a script.
    fn backtick(&mut self, text: &mut Vec<u8>) {
        let start = self.i;
        let mut j = self.i + 1;
        while j < self.limit && self.s[j] != b'`' {
            if self.s[j] == b'\\' {
                j += 1;
            }
            j += 1;
        }
        let close = j.min(self.limit);
        self.nested(start + 1, close, |lexer| lexer.list(false));
        self.i = (close + 1).min(self.limit);
        text.extend_from_slice(&self.s[start..self.i]);
    }

    /// Run `f` over `start..end` as a nested script with its own command state.
    fn nested(&mut self, start: usize, end: usize, f: impl FnOnce(&mut Self)) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        let saved_cmd = std::mem::take(&mut self.cmd);
        let saved_cwd = self.cwd.clone();
        let saved_limit = self.limit;
        let saved_header = self.header;
        let saved_pending = std::mem::take(&mut self.pending_function);
        let saved_frames = self.frames.len();
        self.depth += 1;
        self.limit = end.min(saved_limit);
        self.i = start;
        f(self);
        self.end_command(Sep::End);
        self.frames.truncate(saved_frames);
        self.depth -= 1;
        self.limit = saved_limit;
        self.cmd = saved_cmd;
        self.cwd = saved_cwd;
        self.header = saved_header;
        self.pending_function = saved_pending;
        self.closed = None;
    }

    /// A `$…` at `self.i`: appends the text as written; `true` when it was a literal `$`.
    fn dollar(&mut self, text: &mut Vec<u8>) -> bool {
        let start = self.i;
        if self.depth >= MAX_DEPTH {
            text.push(b'$');
            self.i += 1;
            return true;
        }
        self.depth += 1;
        let literal = self.dollar_body(text, start);
        self.depth -= 1;
        literal
    }

    fn dollar_body(&mut self, text: &mut Vec<u8>, start: usize) -> bool {
        match self.peek(1) {
            Some(b'{') if self.peek(2) == Some(b'{') => {
                // A GitHub expression, substituted before the shell runs.
                let end = crate::lint::expr::block_end(&self.s[..self.limit], self.i + 3)
                    .unwrap_or(self.limit);
                self.i = end;
            }
            Some(b'{') => self.braced(),
            Some(b'(') if self.peek(2) == Some(b'(') => {
                let (inner, after) = self.arith_end(self.i + 3);
                self.arithmetic(self.i + 3, inner);
                self.i = after;
            }
            Some(b'(') => {
                let inner = self.i + 2;
                self.nested(inner, self.limit, |lexer| lexer.list(true));
                // `nested` left `self.i` on the closing `)`.
                self.i = (self.i + 1).min(self.limit);
            }
            Some(b'\'') => {
                let mut j = self.i + 2;
                while j < self.limit && self.s[j] != b'\'' {
                    if self.s[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                self.i = (j + 1).min(self.limit);
            }
            Some(b'"') => {
                self.i += 1;
                let mut sink = Vec::new();
                self.double_quoted(&mut sink);
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let name_start = self.i + 1;
                let mut j = name_start;
                while j < self.limit && (self.s[j].is_ascii_alphanumeric() || self.s[j] == b'_') {
                    j += 1;
                }
                let name = self.sub(name_start, j).to_owned();
                self.add_ref(&name, start, false);
                self.i = j;
            }
            Some(c) if c.is_ascii_digit() || b"@*#?-$!_".contains(&c) => self.i += 2,
            _ => {
                text.push(b'$');
                self.i += 1;
                return true;
            }
        }
        let end = self.i.max(start + 1).min(self.limit);
        text.extend_from_slice(&self.s[start..end]);
        false
    }

    /// `${…}` at `self.i`.
    fn braced(&mut self) {
        let start = self.i;
        let mut j = self.i + 2;
        let prefix = match self.s.get(j) {
            Some(b'#') if self.s.get(j + 1).is_some_and(|c| *c != b'}') => {
                j += 1;
                Some(b'#')
            }
            Some(b'!') if self.s.get(j + 1).is_some_and(|c| *c != b'}') => {
                j += 1;
                Some(b'!')
            }
            _ => None,
        };
        let name_start = j;
        while j < self.limit && (self.s[j].is_ascii_alphanumeric() || self.s[j] == b'_') {
            j += 1;
        }
        if j == name_start && j < self.limit && b"@*#?-$!".contains(&self.s[j]) {
            j += 1;
        }
        let name = self.sub(name_start, j).to_owned();
        // Subscript.
        if j < self.limit && self.s[j] == b'[' {
            while j < self.limit && self.s[j] != b']' {
                j += 1;
            }
            j = (j + 1).min(self.limit);
        }
        let rest = self.sub(j, self.limit);
        let op = ["-", ":-", "=", ":=", "+", ":+", "?", ":?"]
            .iter()
            .filter(|op| rest.starts_with(**op))
            .max_by_key(|op| op.len())
            .copied();
        let list = prefix == Some(b'!') && matches!(self.s.get(j), Some(b'*' | b'@'));
        if valid_name(&name) && !list {
            let guarded =
                prefix == Some(b'#') || matches!(op, Some("-" | ":-" | "=" | ":=" | "+" | ":+"));
            self.add_ref(&name, start, guarded);
            if matches!(op, Some("=" | ":=")) {
                self.add_def(&name, start, false, None);
            }
        }
        // The rest up to the matching `}`: expansions inside are read.
        self.i = j;
        let mut sink = Vec::new();
        while self.i < self.limit && self.s[self.i] != b'}' {
            match self.s[self.i] {
                b'\\' => self.skip_escape(),
                b'\'' if op.is_some() => {
                    self.i += 1;
                    while self.i < self.limit && self.s[self.i] != b'\'' {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                b'"' => {
                    self.double_quoted(&mut sink);
                }
                b'$' => {
                    self.dollar(&mut sink);
                }
                b'`' => self.backtick(&mut sink),
                _ => self.i += 1,
            }
        }
        self.i = (self.i + 1).min(self.limit);
    }

    /// A redirection at `self.i` (`fd` is a file-descriptor number read before it).
    fn redirect(&mut self, fd: String) {
        let rest = self.sub(self.i, self.limit);
        let ops = [
            "&>>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">",
        ];
        let op = ops
            .iter()
            .find(|op| rest.starts_with(**op))
            .copied()
            .unwrap_or(">");
        // `<(…)` / `>(…)`: process substitution, an argument.
        if matches!(op, "<" | ">") && self.peek(1) == Some(b'(') {
            let inner = self.i + 2;
            self.nested(inner, self.limit, |lexer| lexer.list(true));
            self.i = (self.i + 1).min(self.limit);
            return;
        }
        self.i += op.len();
        while matches!(self.peek(0), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        let target_start = self.i;
        let (target, _) = self.read_word(false);
        if matches!(op, "<<" | "<<-") {
            let raw = self.sub(target_start, self.i);
            self.heredocs.push(PendingHeredoc {
                delim: target.text,
                strip_tabs: op == "<<-",
                expand: !raw.contains(['\'', '"', '\\']),
                command: None,
            });
            return;
        }
        let redirect = Redirect {
            op: format!("{fd}{op}"),
            target,
        };
        match self.closed {
            Some(id) if self.cmd.words.is_empty() => self.frame_redirects.push((id, redirect)),
            _ => self.cmd.redirects.push(redirect),
        }
    }

    /// Here-document bodies that start after the newline just read.
    fn read_heredocs(&mut self) {
        for doc in std::mem::take(&mut self.heredocs) {
            let body_start = self.i;
            let mut body_end = self.limit;
            while self.i < self.limit {
                let line_end = self
                    .sub(self.i, self.limit)
                    .find('\n')
                    .map_or(self.limit, |k| self.i + k);
                let line = self.sub(self.i, line_end).trim_end_matches('\r');
                let line = if doc.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if line == doc.delim {
                    body_end = self.i;
                    self.i = (line_end + 1).min(self.limit);
                    break;
                }
                self.i = (line_end + 1).min(self.limit);
            }
            let body_end = body_end.min(self.i);
            if doc.expand {
                let after = self.i;
                self.i = body_start;
                let saved = self.limit;
                self.limit = body_end;
                let mut sink = Vec::new();
                while self.i < self.limit {
                    match self.s[self.i] {
                        b'\\' => self.skip_escape(),
                        b'$' => {
                            self.dollar(&mut sink);
                        }
                        b'`' => self.backtick(&mut sink),
                        _ => self.i += 1,
                    }
                }
                self.limit = saved;
                self.i = after;
            }
            if let Some(k) = doc.command {
                let body = self.sub(body_start, body_end).to_owned();
                if let Some(cmd) = self.out.commands.get_mut(k) {
                    if cmd.heredoc.is_none() {
                        cmd.heredoc = Some(body);
                    }
                }
            }
        }
    }

    /// `case` patterns up to `)`; `false` at the end of input.
    fn case_pattern(&mut self) -> bool {
        loop {
            while self.i < self.limit && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            }
            if self.i >= self.limit {
                return false;
            }
            if self.s[self.i] == b'#' {
                while self.i < self.limit && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
                continue;
            }
            break;
        }
        let rest = self.sub(self.i, self.limit);
        if rest.starts_with("esac")
            && rest[4..]
                .bytes()
                .next()
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b';' | b')' | b'&' | b'|'))
        {
            self.i += 4;
            self.close(FrameKind::Case { pattern: true });
            return true;
        }
        if self.s[self.i] == b'(' {
            self.i += 1;
        }
        while self.i < self.limit {
            match self.s[self.i] {
                b')' => {
                    self.i += 1;
                    break;
                }
                b'|' | b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                _ => {
                    let before = self.i;
                    let _ = self.read_word(false);
                    if self.i == before {
                        self.i += 1;
                    }
                }
            }
        }
        self.set_case_pattern(false);
        true
    }

    /// The command read so far is complete.
    fn end_command(&mut self, sep: Sep) {
        let cmd = std::mem::take(&mut self.cmd);
        self.closed = None;
        if cmd.words.is_empty() && cmd.redirects.is_empty() {
            if sep != Sep::Pipe {
                self.next_pipeline += 1;
            }
            self.cmd.pipeline = if sep == Sep::Pipe { cmd.pipeline } else { 0 };
            return;
        }
        let pipeline = if cmd.pipeline != 0 {
            cmd.pipeline
        } else {
            self.next_pipeline += 1;
            self.next_pipeline
        };
        let has_program = cmd.words.len() > cmd.assigns;
        for def in cmd.assign_defs {
            // `X=1 cmd` puts X in cmd's environment only; `X=1` alone sets a shell variable.
            self.add_def(&def.name, def.offset, has_program, def.value);
        }
        let offset = cmd.words.first().map_or(self.i, |w| w.start);
        let command = Command {
            words: cmd.words,
            assigns: cmd.assigns,
            redirects: cmd.redirects,
            heredoc: None,
            offset,
            cwd: self.cwd.clone(),
            frames: self.frames.iter().map(|f| f.id).collect(),
            pipeline,
        };
        self.builtin(&command, cmd.first_ref);
        let index = self.out.commands.len();
        for doc in &mut self.heredocs {
            if doc.command.is_none() {
                doc.command = Some(index);
            }
        }
        self.out.commands.push(command);
        if sep == Sep::Pipe {
            self.cmd.pipeline = pipeline;
        }
    }

    /// Definitions and state changes made by builtins.
    fn builtin(&mut self, command: &Command, first_ref: usize) {
        let program = command.program();
        let Some(first) = program.first() else {
            return;
        };
        let args = &program[1..];
        let name = first.text.as_str();
        match name {
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                let mut exported = name == "export";
                for w in args {
                    let t = w.text.as_str();
                    if let Some(flags) = t.strip_prefix('-') {
                        if flags.contains(['f', 'F']) || (name == "export" && flags.contains('n')) {
                            return;
                        }
                        exported |= flags.contains('x');
                        continue;
                    }
                    let (n, value) = match t.split_once('=') {
                        Some((n, v)) => (n.trim_end_matches('+'), Some(v)),
                        None => (t, None),
                    };
                    let value = value.filter(|_| w.literal).map(str::to_owned);
                    self.add_def(n, w.start, exported, value);
                }
            }
            "read" => {
                let mut k = 0;
                while let Some(w) = args.get(k) {
                    let t = w.text.as_str();
                    if t.starts_with('-') {
                        if t == "-a" {
                            if let Some(arr) = args.get(k + 1) {
                                self.add_def(&arr.text, arr.start, false, None);
                            }
                            k += 2;
                            continue;
                        }
                        let takes =
                            t.ends_with(['p', 'd', 'n', 'N', 't', 'u', 'i']) && t.len() == 2;
                        k += if takes { 2 } else { 1 };
                        continue;
                    }
                    self.add_def(t, w.start, false, None);
                    k += 1;
                }
                if args.iter().all(|w| w.text.starts_with('-')) {
                    self.add_def("REPLY", first.start, false, None);
                }
            }
            "mapfile" | "readarray" => {
                let target = args
                    .iter()
                    .rev()
                    .find(|w| valid_name(&w.text))
                    .map_or("MAPFILE", |w| w.text.as_str());
                self.add_def(target, first.start, false, None);
            }
            "getopts" => {
                if let Some(w) = args.get(1) {
                    self.add_def(&w.text, w.start, false, None);
                }
            }
            "printf" if args.first().is_some_and(|w| w.text == "-v") => {
                if let Some(w) = args.get(1) {
                    let n = w.text.split('[').next().unwrap_or_default().to_owned();
                    self.add_def(&n, w.start, false, None);
                }
            }
            "let" => {
                for w in args {
                    let t = w.text.trim_start_matches(['+', '-']);
                    let n: String = t
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    self.add_def(&n, w.start, false, None);
                }
            }
            "eval" => self.out.opaque.push(command.offset),
            "set" => {
                let mut k = 0;
                while let Some(w) = args.get(k) {
                    let t = w.text.as_str();
                    if t == "-o" || t == "+o" {
                        if args.get(k + 1).is_some_and(|o| o.text == "allexport") {
                            self.allexport = t == "-o";
                        }
                        k += 2;
                        continue;
                    }
                    if t.starts_with('-') && !t.starts_with("--") && t.contains('a') {
                        self.allexport = true;
                    } else if t.starts_with('+') && t.contains('a') {
                        self.allexport = false;
                    }
                    k += 1;
                }
            }
            "cd" => {
                self.cwd = change_dir(
                    &self.cwd,
                    args.iter()
                        .find(|w| !w.text.starts_with('-') || w.text == "-"),
                );
            }
            "pushd" => {
                self.dirs.push(self.cwd.clone());
                self.cwd = change_dir(&self.cwd, args.iter().find(|w| !w.text.starts_with('-')));
            }
            "popd" => self.cwd = self.dirs.pop().unwrap_or(Cwd::Unknown),
            "[" | "test" | "[[" => {
                // Operands of -z / -n (and -v) only test whether a variable is set.
                let mut guarded: Vec<(usize, usize)> = Vec::new();
                for (k, w) in args.iter().enumerate() {
                    if matches!(w.text.as_str(), "-z" | "-n") {
                        if let Some(op) = args.get(k + 1) {
                            guarded.push((op.start, op.end));
                        }
                    }
                }
                if !guarded.is_empty() {
                    let from = first_ref.min(self.out.refs.len());
                    for r in &mut self.out.refs[from..] {
                        if guarded.iter().any(|(s, e)| r.offset >= *s && r.offset < *e) {
                            r.guarded = true;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// What the commands write to `$GITHUB_ENV`.
    fn finish(mut self) -> Scan {
        let commands = std::mem::take(&mut self.out.commands);
        let mut written: Vec<(usize, String)> = Vec::new();
        for (k, cmd) in commands.iter().enumerate() {
            let program = cmd.program();
            if let Some(stacks) = stackwire_env(program) {
                if stacks.write || (stacks.github_env_format && self.writes_to_env(&commands, k)) {
                    self.out.stackwire_env.push((cmd.offset, stacks.stacks));
                }
                continue;
            }
            if !self.writes_to_env(&commands, k) {
                continue;
            }
            let name = cmd.name().unwrap_or_default();
            let text = match name {
                "echo" => Some(
                    program[1..]
                        .iter()
                        .skip_while(|w| {
                            w.text.starts_with('-')
                                && w.text.len() > 1
                                && w.text[1..].bytes().all(|b| b"neE".contains(&b))
                        })
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                "printf" => program.get(1).map(|w| w.text.clone()),
                "cat" if program.len() == 1 => cmd.heredoc.clone(),
                "" if program.is_empty() => Some(String::new()),
                "tee" | ":" | "true" => Some(String::new()),
                _ => None,
            };
            match text {
                Some(text) => written.push((cmd.offset, text)),
                None => {
                    self.out.env_dynamic.get_or_insert(cmd.offset);
                }
            }
        }
        // One text in order: a `NAME<<EOF` block may span several `echo`s of a group.
        if let Some((offset, _)) = written.first() {
            let offset = *offset;
            let text: Vec<&str> = written.iter().map(|(_, t)| t.as_str()).collect();
            if !env_file_names(&text.join("\n"), offset, &mut self.out.env_writes) {
                self.out.env_dynamic.get_or_insert(offset);
            }
        }
        self.out.commands = commands;
        self.out
    }

    /// Whether command `k`'s output ends up in `$GITHUB_ENV`.
    fn writes_to_env(&self, commands: &[Command], k: usize) -> bool {
        let cmd = &commands[k];
        if let Some(to_env) = cmd.stdout_redirect() {
            return to_env;
        }
        // Piped into `tee $GITHUB_ENV` later in the same pipeline.
        let piped = commands[k + 1..]
            .iter()
            .take_while(|c| c.pipeline == cmd.pipeline)
            .any(|c| {
                c.name() == Some("tee") && c.program()[1..].iter().any(|w| is_github_env(&w.text))
            });
        if piped {
            return true;
        }
        // The innermost enclosing group that redirects stdout decides.
        for id in cmd.frames.iter().rev() {
            let redirects: Vec<Redirect> = self
                .frame_redirects
                .iter()
                .filter(|(f, _)| f == id)
                .map(|(_, r)| r.clone())
                .collect();
            if let Some(to_env) = stdout_target(&redirects) {
                return to_env;
            }
        }
        false
    }
}

/// `cd`'s new directory.
fn change_dir(cwd: &Cwd, arg: Option<&Word>) -> Cwd {
    let Some(arg) = arg else {
        return Cwd::Unknown;
    };
    let t = arg.text.as_str();
    for prefix in [
        "$GITHUB_WORKSPACE",
        "${GITHUB_WORKSPACE}",
        "${{ github.workspace }}",
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            if rest.is_empty() || rest.starts_with('/') {
                let rest = rest.trim_start_matches('/');
                if rest.contains('$') {
                    return Cwd::Unknown;
                }
                return normalize(rest).map_or(Cwd::Unknown, Cwd::Workspace);
            }
        }
    }
    if !arg.literal || t == "-" || t.starts_with(['/', '~']) {
        return Cwd::Unknown;
    }
    match cwd {
        Cwd::Rel(base) => Cwd::Rel(normalize_relative(&join(base, t))),
        Cwd::Workspace(base) => normalize(&join(base, t)).map_or(Cwd::Unknown, Cwd::Workspace),
        Cwd::Unknown => Cwd::Unknown,
    }
}

/// `a` + `/` + `b`, without doubling slashes.
pub(crate) fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else if b.is_empty() {
        a.to_owned()
    } else {
        format!("{}/{}", a.trim_end_matches('/'), b)
    }
}

/// Resolve `.` and `..`, keeping leading `..` (a path relative to somewhere unknown yet).
pub(crate) fn normalize_relative(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Resolve `.` and `..`; `None` when the path climbs above its start.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

struct StackwireEnv {
    write: bool,
    github_env_format: bool,
    stacks: Vec<String>,
}

/// `stackwire [global options] env …`: its `--stack` names and how it writes.
fn stackwire_env(program: &[Word]) -> Option<StackwireEnv> {
    let first = program.first()?;
    if basename(&first.text) != "stackwire" {
        return None;
    }
    let mut out = StackwireEnv {
        write: false,
        github_env_format: false,
        stacks: Vec::new(),
    };
    let mut subcommand = None;
    let mut k = 1;
    while let Some(w) = program.get(k) {
        let t = w.text.as_str();
        let next = program.get(k + 1).map(|w| w.text.clone());
        match t {
            "-s" | "--stack" => {
                out.stacks.extend(next);
                k += 2;
                continue;
            }
            "-f" | "--format" => {
                out.github_env_format |= next.as_deref() == Some("github-env");
                k += 2;
                continue;
            }
            "-C" | "--dir" | "--pulumi" | "--state" | "--backend" | "--color" => {
                k += 2;
                continue;
            }
            "--write-github-env" => out.write = true,
            _ => {
                if let Some(v) = t
                    .strip_prefix("--stack=")
                    .or_else(|| t.strip_prefix("-s").filter(|v| !v.is_empty()))
                {
                    out.stacks.push(v.to_owned());
                } else if let Some(v) = t.strip_prefix("--format=") {
                    out.github_env_format |= v == "github-env";
                } else if !t.starts_with('-') && subcommand.is_none() {
                    subcommand = Some(t.to_owned());
                }
            }
        }
        k += 1;
    }
    (subcommand.as_deref() == Some("env")).then_some(out)
}

/// Names in text written to an env file (`NAME=value` and `NAME<<DELIM` lines); `false` when
/// a line's name is not literal.
pub(crate) fn env_file_names(text: &str, offset: usize, out: &mut Vec<(String, usize)>) -> bool {
    let text = text.replace("\\n", "\n");
    let mut lines = text.lines();
    let mut ok = true;
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('$') || line.starts_with('`') {
            ok = false;
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = &line[name.len()..];
        if !valid_name(&name) {
            continue;
        }
        if rest.starts_with('=') {
            out.push((name, offset));
        } else if let Some(delim) = rest.strip_prefix("<<") {
            out.push((name, offset));
            let delim = delim.trim();
            for body in lines.by_ref() {
                if body.trim() == delim {
                    break;
                }
            }
        } else if rest.starts_with('$') || rest.starts_with("${") {
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(script: &str) -> Vec<(String, bool)> {
        scan(script)
            .refs
            .into_iter()
            .map(|r| (r.name, r.guarded))
            .collect()
    }

    fn names(script: &str) -> Vec<String> {
        scan(script).refs.into_iter().map(|r| r.name).collect()
    }

    fn defs(script: &str) -> Vec<String> {
        scan(script).defs.into_iter().map(|d| d.name).collect()
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(names("echo '$A' \"$B\" $C \\$D ${E}"), ["B", "C", "E"]);
        assert_eq!(names("echo \"a \\$B ${C:-x}\""), ["C"]);
        assert_eq!(names("echo $'\\x$A' $\"$B\""), ["B"]);
        assert!(names("echo ${{ env.A }} ${{ secrets.B }}").is_empty());
        assert_eq!(names("# $A\necho $B # $C"), ["B"]);
        assert_eq!(names("echo a#$B"), ["B"]);
    }

    #[test]
    fn guards_and_specials() {
        assert_eq!(
            refs("echo ${A:-x} ${B-} ${C:+y} ${#D} ${E:?need} $1 $@ $? ${10}"),
            [
                ("A".into(), true),
                ("B".into(), true),
                ("C".into(), true),
                ("D".into(), true),
                ("E".into(), false)
            ]
        );
        assert_eq!(
            refs("if [ -z \"$A\" ]; then echo \"$A\"; fi"),
            [("A".into(), true), ("A".into(), false)]
        );
        assert_eq!(
            refs("[[ -n ${A} && $B == x ]]"),
            [("A".into(), true), ("B".into(), false)]
        );
    }

    #[test]
    fn substitutions_nest() {
        assert_eq!(
            names("x=$(echo \"$(cat $A)\" `echo $B`) ; echo $((C + $D))"),
            ["A", "B", "D"]
        );
        assert_eq!(
            names("echo ${A:-$(echo $B)} ${C/#$D/x}"),
            ["A", "B", "C", "D"]
        );
        assert_eq!(names("diff <(sort $A) >(cat $B)"), ["A", "B"]);
    }

    #[test]
    fn definitions() {
        let d = defs(
            "A=1\nexport B=2 C\nread -r D E\nfor F in x; do :; done\nlocal G\n\
             declare -x H=3\nmapfile -t I < f\nprintf -v J x\n((K++))\nlet L=1\n: ${M:=x}\n\
             getopts ab N\nwhile read -r O; do :; done\nP+=x\narr=(1 2)",
        );
        for n in [
            "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "arr",
        ] {
            assert!(d.contains(&n.to_owned()), "{n} not in {d:?}");
        }
    }

    #[test]
    fn order_and_deferral() {
        let s = scan("echo $A\nA=1\nf() { echo $B; }\nB=2\nfor x in 1; do echo $C; C=1; done");
        let by = |n: &str| s.refs.iter().find(|r| r.name == n).unwrap().clone();
        assert!(!s.defines("A", by("A").offset, by("A").deferred));
        assert!(s.defines("B", by("B").offset, by("B").deferred));
        assert!(s.defines("C", by("C").offset, by("C").deferred));
    }

    #[test]
    fn exports_reach_children() {
        let s = scan("A=1\nexport B=2\nC=3 ./child.sh\nset -a\nD=4\n./other.sh");
        let call = s.commands.last().unwrap().offset;
        assert_eq!(s.exported_before(call), ["B", "C", "D"]);
        assert_eq!(s.value_before("A", call), Some("1"));
    }

    #[test]
    fn heredocs() {
        let s = scan("cat <<EOF\n$A\nEOF\ncat <<'EOF'\n$B\nEOF\necho $C\ncat <<-X\n\t$D\n\tX\n");
        let n: Vec<_> = s.refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(n, ["A", "C", "D"]);
        assert_eq!(s.commands[0].heredoc.as_deref(), Some("$A\n"));
    }

    #[test]
    fn github_env_writes() {
        let s = scan(
            "echo \"A=1\" >> \"$GITHUB_ENV\"\necho B=$x >> $GITHUB_ENV\n\
             { echo C=1; echo \"D<<EOF\"; echo x; echo EOF; } >> ${GITHUB_ENV}\n\
             echo E=1 | tee -a \"$GITHUB_ENV\"\ncat <<EOF >> $GITHUB_ENV\nF=1\nG<<Z\nH=2\nZ\nEOF\n\
             printf 'I=%s\\nJ=%s\\n' a b >> $GITHUB_ENV\necho K=1 > out.txt",
        );
        let n: Vec<_> = s.env_writes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(n, ["A", "B", "C", "D", "E", "F", "G", "I", "J"]);
        assert_eq!(s.env_dynamic, None);
        let dynamic = scan("cat .env >> $GITHUB_ENV");
        assert_eq!(dynamic.env_dynamic, Some(0));
        let dynamic = scan("echo \"$NAME=1\" >> $GITHUB_ENV");
        assert!(dynamic.env_dynamic.is_some());
        let loop_write = scan("for n in a b; do echo \"X=$n\"; done >> $GITHUB_ENV");
        assert_eq!(loop_write.env_writes.len(), 1);
        let loop_write = scan("for n in a b; do echo \"X_$n=1\"; done >> $GITHUB_ENV");
        assert!(loop_write.env_dynamic.is_some());
    }

    #[test]
    fn stackwire_env_runs() {
        let s = scan(
            "stackwire env --write-github-env -s prod\n./bin/stackwire -q env -f github-env >> $GITHUB_ENV\nstackwire env",
        );
        assert_eq!(s.stackwire_env.len(), 2);
        assert_eq!(s.stackwire_env[0].1, ["prod"]);
    }

    #[test]
    fn case_and_functions() {
        let s = scan(
            "case \"$A\" in\n  a|b) echo $B ;;\n  (c) X=1 ;;\n  *) : ;;\nesac\necho $X\n\
             function f() { local y=$1; echo $y; }\ng () ( echo $Z )",
        );
        let n: Vec<_> = s.refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(n, ["A", "B", "X", "y", "Z"]);
        assert!(s.defines("X", s.refs[2].offset, false));
    }

    #[test]
    fn commands_and_cwd() {
        let s = scan(
            "cd app && docker build -f Dockerfile.prod .\n(cd other; make)\nsudo -E env X=1 ./run.sh a\npushd x; popd\ncd $DIR\nls",
        );
        let docker = &s.commands[1];
        assert_eq!(docker.name(), Some("docker"));
        assert_eq!(docker.cwd, Cwd::Rel("app".into()));
        let make = s
            .commands
            .iter()
            .find(|c| c.name() == Some("make"))
            .unwrap();
        assert_eq!(make.cwd, Cwd::Rel("app/other".into()));
        let run = s
            .commands
            .iter()
            .find(|c| c.name() == Some("run.sh"))
            .unwrap();
        assert_eq!(run.program()[0].text, "./run.sh");
        assert_eq!(run.cwd, Cwd::Rel("app".into()));
        assert_eq!(s.commands.last().unwrap().cwd, Cwd::Unknown);
    }

    #[test]
    fn expand_substitutes() {
        let look = |n: &str| (n == "D").then(|| "docker".to_owned());
        assert_eq!(expand("$D/${D}.x", &look).unwrap(), "docker/docker.x");
        assert_eq!(expand("$E/x", &look).unwrap_err(), "E");
        assert_eq!(expand("${{ matrix.x }}", &look).unwrap(), "${{ matrix.x }}");
    }

    #[test]
    fn eval_is_opaque() {
        let s = scan("eval \"$(ssh-agent)\"\necho $SSH_AUTH_SOCK");
        assert!(s.opaque_before(s.refs.last().unwrap().offset));
    }

    #[test]
    fn line_continuations() {
        let s = scan("docker build \\\n  -f Dockerfile.x \\\n  .");
        let words: Vec<_> = s.commands[0]
            .words
            .iter()
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(words, ["docker", "build", "-f", "Dockerfile.x", "."]);
    }
}
