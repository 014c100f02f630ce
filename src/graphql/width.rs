//! Width limits: how many fields, aliases and root fields a request may select, counted on the
//! parsed document before anything runs.
//!
//! Depth and complexity ([`super::limits`]) do not bound a request that is wide rather than
//! deep: 50,000 aliases of `sources(first: 1) { totalCount }` cost 50,000 resolvers and as
//! many database round trips, while each alias alone is cheap. So a request is measured here
//! first, in one pass over its document: every field counts once for each place it would be
//! executed, fragments counted as expanded wherever they are spread (`@skip`/`@include` are not
//! evaluated: a field that may be selected counts). Each fragment is measured once and its
//! measure reused at every spread, so a "fragment bomb" (fragments spreading each other many
//! times over) costs this pass no more than its text, however large its expansion; counts
//! saturate instead of overflowing. Every operation of the document is measured, since
//! validation reads them all.

use std::collections::HashMap;

use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, Name, Positioned, ServerError};

use crate::error::code;

/// How deep fragment spreads and selection sets may nest while measuring. Validation refuses
/// fragment cycles and the parser deep selection sets, but this pass runs before both: a chain
/// of thousands of fragments, each spreading the next, must not exhaust the stack.
const MAX_NESTING: usize = 128;

/// The width limits of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WidthLimits {
    /// Most fields a request may select, fragments counted where they are spread.
    pub max_fields: usize,
    /// Most aliased fields (`a: viewer { id }`) a request may select, counted the same way.
    pub max_aliases: usize,
    /// Most fields an operation may select at its root, counted the same way.
    pub max_root_fields: usize,
}

impl Default for WidthLimits {
    fn default() -> Self {
        Self {
            max_fields: 1_000,
            max_aliases: 100,
            max_root_fields: 50,
        }
    }
}

/// What a selection set selects once expanded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Width {
    /// Fields at any level.
    pub fields: usize,
    /// Fields with an alias, at any level.
    pub aliases: usize,
    /// Fields at the selection set's own level (through fragments, not through fields).
    pub top: usize,
}

impl Width {
    fn add(&mut self, other: Width) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.top = self.top.saturating_add(other.top);
    }
}

/// The measure of a whole request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    /// Fields, over every operation.
    pub fields: usize,
    /// Aliased fields, over every operation.
    pub aliases: usize,
    /// Root fields of the widest operation.
    pub root_fields: usize,
}

/// Measures `document`; `Err` when fragments nest deeper than this pass follows.
pub fn measure(document: &ExecutableDocument) -> Result<Measured, ServerError> {
    let mut walk = Walk {
        fragments: &document.fragments,
        memo: HashMap::new(),
    };
    let mut measured = Measured::default();
    for (_, operation) in document.operations.iter() {
        let width = walk.selection_set(&operation.node.selection_set.node, 0)?;
        measured.fields = measured.fields.saturating_add(width.fields);
        measured.aliases = measured.aliases.saturating_add(width.aliases);
        measured.root_fields = measured.root_fields.max(width.top);
    }
    Ok(measured)
}

impl WidthLimits {
    /// Refuses a `document` wider than these limits, with an error naming the count and the
    /// limit (code `QUERY_TOO_WIDE`).
    pub fn check(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
        let measured = measure(document)?;
        self.check_counts(measured.fields, measured.aliases, "")?;
        if measured.root_fields > self.max_root_fields {
            return Err(too_wide(
                format!(
                    "Query is too wide: it selects {} root fields, more than the limit of {}; \
                     send them in several requests.",
                    measured.root_fields, self.max_root_fields
                ),
                ("rootFields", measured.root_fields),
                ("maxRootFields", self.max_root_fields),
            ));
        }
        Ok(())
    }
}

impl WidthLimits {
    /// Refuses a query whose text alone, before it is parsed, has more fields or aliases
    /// than the limits allow: each counted once where it is written, which for a document
    /// with named fragments is a lower bound (hence "at least").
    pub fn check_written(
        &self,
        fields: usize,
        aliases: usize,
        named_spreads: bool,
    ) -> Result<(), ServerError> {
        self.check_counts(
            fields,
            aliases,
            if named_spreads { "at least " } else { "" },
        )
    }

    fn check_counts(&self, fields: usize, aliases: usize, bound: &str) -> Result<(), ServerError> {
        if fields > self.max_fields {
            return Err(too_wide(
                format!(
                    "Query is too wide: it selects {bound}{fields} fields (a fragment counts \
                     each time it is spread), more than the limit of {}.",
                    self.max_fields
                ),
                ("fields", fields),
                ("maxFields", self.max_fields),
            ));
        }
        if aliases > self.max_aliases {
            return Err(too_wide(
                format!(
                    "Query is too wide: it has {bound}{aliases} aliased fields, more than the \
                     limit of {}.",
                    self.max_aliases
                ),
                ("aliases", aliases),
                ("maxAliases", self.max_aliases),
            ));
        }
        Ok(())
    }
}

fn too_wide(message: String, count: (&str, usize), limit: (&str, usize)) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::QUERY_TOO_WIDE);
    extensions.set(count.0, count.1);
    extensions.set(limit.0, limit.1);
    error.extensions = Some(extensions);
    error
}

fn too_nested() -> ServerError {
    let mut error = ServerError::new(
        format!(
            "Query is nested too deep: its fragments and selection sets nest more than \
             {MAX_NESTING} levels."
        ),
        None,
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::QUERY_TOO_DEEP);
    error.extensions = Some(extensions);
    error
}

struct Walk<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Each fragment's width once measured; `None` while it is being measured, so a cycle
    /// (which validation refuses later) counts as nothing instead of looping.
    memo: HashMap<&'a str, Option<Width>>,
}

impl<'a> Walk<'a> {
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        nesting: usize,
    ) -> Result<Width, ServerError> {
        if nesting > MAX_NESTING {
            return Err(too_nested());
        }
        let mut width = Width::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.node.selection_set.node, nesting + 1)?;
                    width.add(Width {
                        fields: inner.fields.saturating_add(1),
                        aliases: inner
                            .aliases
                            .saturating_add(usize::from(field.node.alias.is_some())),
                        top: 1,
                    });
                }
                Selection::InlineFragment(inline) => {
                    width.add(self.selection_set(&inline.node.selection_set.node, nesting + 1)?);
                }
                Selection::FragmentSpread(spread) => {
                    width.add(self.fragment(spread.node.fragment_name.node.as_str(), nesting)?);
                }
            }
        }
        Ok(width)
    }

    fn fragment(&mut self, name: &'a str, nesting: usize) -> Result<Width, ServerError> {
        match self.memo.get(name) {
            Some(Some(width)) => return Ok(*width),
            Some(None) => return Ok(Width::default()),
            None => {}
        }
        // An unknown fragment is validation's to report.
        let Some((key, fragment)) = self.fragments.get_key_value(name) else {
            return Ok(Width::default());
        };
        self.memo.insert(key.as_str(), None);
        let width = self.selection_set(&fragment.node.selection_set.node, nesting + 1)?;
        self.memo.insert(key.as_str(), Some(width));
        Ok(width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn measured(query: &str) -> Measured {
        measure(&parse_query(query).unwrap()).unwrap()
    }

    #[test]
    fn fields_are_counted_where_fragments_are_spread() {
        assert_eq!(
            measured("{ a { b c } d: e }"),
            Measured {
                fields: 4,
                aliases: 1,
                root_fields: 2
            }
        );
        assert_eq!(
            measured("{ ...F x { ...F } } fragment F on Q { y: a b { c } }"),
            Measured {
                fields: 7,
                aliases: 2,
                root_fields: 3
            }
        );
        assert_eq!(
            measured("{ ... on Q { a b } ... @include(if: false) { c } }"),
            Measured {
                fields: 3,
                aliases: 0,
                root_fields: 3
            }
        );
    }

    #[test]
    fn a_fragment_bomb_is_measured_without_expanding_it() {
        // Each level spreads the next ten times: 10^30 fields once expanded.
        let mut query = String::from("{ ...F0 }");
        for level in 0..30 {
            let spreads = format!(" ...F{}", level + 1).repeat(10);
            query.push_str(&format!(" fragment F{level} on Q {{ a{spreads} }}"));
        }
        query.push_str(" fragment F30 on Q { a }");
        let measured = measured(&query);
        assert_eq!(measured.fields, usize::MAX);
    }

    #[test]
    fn cycles_and_long_chains_do_not_loop_or_overflow_the_stack() {
        assert_eq!(
            measured("{ ...A } fragment A on Q { a ...B } fragment B on Q { b ...A }").fields,
            2
        );
        let mut query = String::from("{ ...F0 }");
        for level in 0..10_000 {
            query.push_str(&format!(" fragment F{level} on Q {{ ...F{} }}", level + 1));
        }
        let error = measure(&parse_query(&query).unwrap()).unwrap_err();
        assert!(error.message.starts_with("Query is nested too deep"));
    }

    #[test]
    fn the_introspection_query_fits_the_default_limits() {
        let measured = measured(crate::graphql::sdl::INTROSPECTION_QUERY);
        // GraphiQL's and graphql-js's introspection query: the widest query a tool sends.
        assert_eq!(
            measured,
            Measured {
                fields: 229,
                aliases: 0,
                root_fields: 1
            }
        );
        let limits = WidthLimits::default();
        assert!(
            limits
                .check(&parse_query(crate::graphql::sdl::INTROSPECTION_QUERY).unwrap())
                .is_ok()
        );
        assert!(measured.fields * 4 < limits.max_fields, "{measured:?}");
    }
}
