//! Parsed query documents, kept by their text: a client sends the same few queries over and
//! over, and parsing one (async-graphql's `pest` parser) costs more than copying the
//! document parsed before (3 % of the server's CPU for the nested query of BENCHMARKS.md).
//! Only documents that parsed are kept; a query that does not parse is parsed, and refused,
//! each time. The same text always parses to the same document, positions included, so an
//! answer cannot tell whether its document came from here.

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;
use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};

/// The memory the documents may take, estimated ([`DocumentSize`]).
const CAPACITY_BYTES: u64 = 16 << 20;

/// Longer query texts are parsed each time: they are rarely sent twice.
const LONGEST_KEPT: usize = 64 << 10;

/// A document's weight: its text, ten times over (the parsed document's nodes, names and
/// positions take several times the text).
#[derive(Clone, Copy)]
struct DocumentSize;

impl Weighter<String, ExecutableDocument> for DocumentSize {
    fn weight(&self, query: &String, _: &ExecutableDocument) -> u64 {
        (query.len() as u64).saturating_mul(10).max(1)
    }
}

/// Parsed documents by query text; past the capacity, those used least go first.
pub struct ParsedQueries {
    documents: Cache<String, ExecutableDocument, DocumentSize>,
}

impl Default for ParsedQueries {
    fn default() -> Self {
        Self::with_capacity(CAPACITY_BYTES)
    }
}

impl ParsedQueries {
    /// A store of documents weighing at most `bytes` in all.
    fn with_capacity(bytes: u64) -> Self {
        let options = OptionsBuilder::new()
            .estimated_items_capacity(1_024)
            .weight_capacity(bytes)
            .build();
        #[expect(
            clippy::expect_used,
            reason = "constant options, checked by every test"
        )]
        let options = options.expect("the parsed-documents cache's options are valid");
        Self {
            documents: Cache::with_options(
                options,
                DocumentSize,
                DefaultHashBuilder::default(),
                DefaultLifecycle::default(),
            ),
        }
    }

    /// Gives `request` its parsed document: the one kept for its text, or parses it now and
    /// keeps it. A text that does not parse is left for execution to refuse.
    pub fn fill(&self, request: &mut Request) {
        if request.query.is_empty() || request.query.len() > LONGEST_KEPT {
            return;
        }
        if let Some(document) = self.documents.get(&request.query) {
            request.set_parsed_query(document);
            return;
        }
        if let Ok(document) = request.parsed_query() {
            let document = document.clone();
            self.documents.insert(request.query.clone(), document);
        }
    }

    /// How many documents are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.documents.len()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn a_query_sent_again_gets_the_document_its_text_parses_to() {
        let store = ParsedQueries::default();
        let text = "query Q($n: Int) {\n  sources(first: $n) { edges { node { id } } }\n}";
        let mut first = Request::new(text);
        store.fill(&mut first);
        assert_eq!(store.len(), 1);
        let mut again = Request::new(text);
        store.fill(&mut again);
        assert_eq!(store.len(), 1);
        let expected = format!("{:?}", parse_query(text).unwrap());
        for request in [&mut first, &mut again] {
            assert_eq!(format!("{:?}", request.parsed_query().unwrap()), expected);
        }
    }

    #[test]
    fn a_query_that_does_not_parse_is_not_kept_and_is_still_refused() {
        let store = ParsedQueries::default();
        let mut request = Request::new("{ sources(first: 1) { ");
        store.fill(&mut request);
        assert_eq!(store.len(), 0);
        assert!(request.parsed_query().is_err());
    }

    #[test]
    fn documents_past_the_capacity_are_let_go() {
        let store = ParsedQueries::with_capacity(4_000);
        for n in 0..100 {
            let mut request = Request::new(format!("{{ a{n}: __typename }}"));
            store.fill(&mut request);
        }
        // Each weighs ten times its text of some 20 bytes: about 20 fit.
        assert!(store.len() < 40, "{} kept", store.len());
    }
}
