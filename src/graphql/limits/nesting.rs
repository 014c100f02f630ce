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
        let mut fields = 0usize;
        let mut aliases = 0usize;
        let mut after_at = false;
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
                    after_at = true;
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
                    // In a selection set, a name is a field, an alias (before `:`), a
                    // directive (after `@`) or part of a fragment spread.
                    if !braces.is_empty() && spread == Spread::None && !after_at {
                        let mut next = i;
                        while next < bytes.len()
                            && matches!(bytes[next], b' ' | b'\t' | b'\n' | b'\r' | b',')
                        {
                            next += 1;
                        }
                        if bytes.get(next) == Some(&b':') {
                            aliases += 1;
                        } else {
                            fields += 1;
                        }
                    }
                    after_at = false;
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
            fields,
            aliases,
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
