//! The nesting of a query measured on its text, before the parser sees it.
//!
//! Braces inside arguments and variable defaults (object values) and inside strings and
//! comments are not selection sets; the braces of an inline fragment (`... on T { }`) add no
//! level of fields. A named fragment's own braces are counted where it is defined, so through
//! named fragments the result is a lower bound of the depth async-graphql counts.

/// How deep the selection sets of a query's text nest.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Nesting {
    /// The deepest nesting of selection sets, inline fragments not counted: the depth of the
    /// fields when the query has no named fragments, else a lower bound of it.
    pub(super) depth: usize,
    /// Whether the query spreads named fragments (`...Name`).
    pub(super) named_spreads: bool,
    /// Fields written in selection sets (each once, where it is written: a lower bound of
    /// the fields once fragments are expanded, for a valid document).
    pub(super) fields: usize,
    /// Aliases written in selection sets, counted the same way.
    pub(super) aliases: usize,
}

/// Where the scan is after `...`: an inline fragment's braces add no level of fields.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Spread {
    #[default]
    None,
    /// Just after `...`.
    Start,
    /// After `... on`.
    On,
    /// In the head of an inline fragment (type condition, directives) before its `{`.
    InlineHead,
}

impl Nesting {
    /// Measures `query`.
    pub(super) fn of(query: &str) -> Self {
        let bytes = query.as_bytes();
        let mut scan = Scan::default();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'#' => i = skip_comment(bytes, i),
                b'"' if bytes[i..].starts_with(b"\"\"\"") => i = skip_block_string(bytes, i),
                b'"' => i = skip_string(bytes, i),
                b'_' | b'a'..=b'z' | b'A'..=b'Z' if scan.parens == 0 => i = scan.name(bytes, i),
                b'.' if scan.parens == 0 && bytes[i..].starts_with(b"...") => {
                    scan.spread = Spread::Start;
                    i += 3;
                }
                b => {
                    scan.punctuation(b);
                    i += 1;
                }
            }
        }
        Self {
            depth: scan.deepest,
            named_spreads: scan.named_spreads,
            fields: scan.fields,
            aliases: scan.aliases,
        }
    }
}

/// The state of the scan of a query's text.
#[derive(Default)]
struct Scan {
    /// One entry per open brace: whether it counts as a level of fields.
    braces: Vec<bool>,
    depth: usize,
    deepest: usize,
    /// Open parentheses: inside arguments and variable definitions nothing counts.
    parens: usize,
    spread: Spread,
    named_spreads: bool,
    fields: usize,
    aliases: usize,
    /// Just after `@`: the next name is a directive.
    after_at: bool,
}

impl Scan {
    /// Takes in one character that is not part of a name, string, comment or `...`.
    fn punctuation(&mut self, b: u8) {
        match b {
            b'(' => self.parens += 1,
            b')' => self.parens = self.parens.saturating_sub(1),
            _ if self.parens > 0 => {}
            b'{' => {
                let counted = self.spread == Spread::None;
                self.braces.push(counted);
                if counted {
                    self.depth += 1;
                    self.deepest = self.deepest.max(self.depth);
                }
                self.spread = Spread::None;
            }
            b'}' => {
                if self.braces.pop() == Some(true) {
                    self.depth -= 1;
                }
                self.spread = Spread::None;
            }
            b'@' => {
                self.after_at = true;
                if self.spread == Spread::Start {
                    self.spread = Spread::InlineHead;
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {}
            _ => {
                if self.spread != Spread::InlineHead {
                    self.spread = Spread::None;
                }
            }
        }
    }

    /// Takes in the name starting at `start`; returns the index after it.
    fn name(&mut self, bytes: &[u8], start: usize) -> usize {
        let mut i = start;
        while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
            i += 1;
        }
        let name = &bytes[start..i];
        // In a selection set, a name is a field, an alias (before `:`), a directive (after
        // `@`) or part of a fragment spread.
        if !self.braces.is_empty() && self.spread == Spread::None && !self.after_at {
            let mut next = i;
            while next < bytes.len() && matches!(bytes[next], b' ' | b'\t' | b'\n' | b'\r' | b',') {
                next += 1;
            }
            if bytes.get(next) == Some(&b':') {
                self.aliases += 1;
            } else {
                self.fields += 1;
            }
        }
        self.after_at = false;
        self.spread = match self.spread {
            Spread::Start if name == b"on" => Spread::On,
            Spread::Start => {
                self.named_spreads = true;
                Spread::None
            }
            Spread::On | Spread::InlineHead => Spread::InlineHead,
            Spread::None => Spread::None,
        };
        i
    }
}

/// The index after the comment starting at `i` (at its line end).
fn skip_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
        i += 1;
    }
    i
}

/// The index after the block string starting at `i`.
fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    i += 3;
    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
        i += if bytes[i..].starts_with(b"\\\"\"\"") {
            4
        } else {
            1
        };
    }
    i + 3
}

/// The index after the string starting at `i` (or after its line, if unterminated).
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(query: &str) -> usize {
        Nesting::of(query).depth
    }

    #[test]
    fn nesting_counts_selection_sets_of_fields() {
        assert_eq!(depth("{ a }"), 1);
        assert_eq!(depth("{ a { b { c } } d }"), 3);
        assert_eq!(
            depth("query Q($v: In = {a: {b: 1}}) { a(x: {y: {z: [1]}}) { b } }"),
            2
        );
        assert_eq!(
            depth("{ a { ... on T { b { c } } ... @include(if: true) { d } } }"),
            3
        );
        assert_eq!(
            depth("{ a(s: \"{{{\", t: \"\"\" { \\\"\"\" {\"\"\") { b } } # { { {"),
            2
        );
        assert_eq!(depth("{ a { b } } fragment F on T { c { d { e } } }"), 3);
        let spread = Nesting::of("{ a { ...F } } fragment F on T { b }");
        assert_eq!(
            spread,
            Nesting {
                depth: 2,
                named_spreads: true,
                fields: 2,
                aliases: 0,
            }
        );
        assert!(!Nesting::of("{ a { ... on T { b } } }").named_spreads);
    }

    #[test]
    fn fields_and_aliases_are_counted_on_the_text() {
        let of = |q: &str| {
            let n = Nesting::of(q);
            (n.fields, n.aliases)
        };
        assert_eq!(of("{ a b: c(x: {y: z}) @include(if: $v) { d } }"), (3, 1));
        assert_eq!(
            of(
                "query Q($v: Boolean = true) @dir { x: a ... on T @skip(if: $v) { b } ...F } fragment F on T { c }"
            ),
            (3, 1)
        );
        assert_eq!(of("{ a(s: \"b: c\") # d: e\n }"), (1, 0));
    }
}
