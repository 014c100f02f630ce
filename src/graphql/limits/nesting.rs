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
}

/// Where the scan is after `...`: an inline fragment's braces add no level of fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spread {
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
        let mut braces: Vec<bool> = Vec::new();
        let mut depth = 0;
        let mut deepest = 0;
        let mut parens = 0usize;
        let mut spread = Spread::None;
        let mut named_spreads = false;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                        i += 1;
                    }
                    continue;
                }
                b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                    continue;
                }
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                    continue;
                }
                b'(' => parens += 1,
                b')' => parens = parens.saturating_sub(1),
                _ if parens > 0 => {}
                b'{' => {
                    let counted = spread == Spread::None;
                    braces.push(counted);
                    if counted {
                        depth += 1;
                        deepest = deepest.max(depth);
                    }
                    spread = Spread::None;
                }
                b'}' => {
                    if braces.pop() == Some(true) {
                        depth -= 1;
                    }
                    spread = Spread::None;
                }
                b'.' if bytes[i..].starts_with(b"...") => {
                    spread = Spread::Start;
                    i += 3;
                    continue;
                }
                b'@' => {
                    if spread == Spread::Start {
                        spread = Spread::InlineHead;
                    }
                }
                b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                    let start = i;
                    while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric())
                    {
                        i += 1;
                    }
                    let name = &bytes[start..i];
                    spread = match spread {
                        Spread::Start if name == b"on" => Spread::On,
                        Spread::Start => {
                            named_spreads = true;
                            Spread::None
                        }
                        Spread::On | Spread::InlineHead => Spread::InlineHead,
                        Spread::None => Spread::None,
                    };
                    continue;
                }
                b' ' | b'\t' | b'\n' | b'\r' | b',' => {}
                _ => {
                    if spread != Spread::InlineHead {
                        spread = Spread::None;
                    }
                }
            }
            i += 1;
        }
        Self {
            depth: deepest,
            named_spreads,
        }
    }
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
                named_spreads: true
            }
        );
        assert!(!Nesting::of("{ a { ... on T { b } } }").named_spreads);
    }
}
