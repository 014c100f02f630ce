//! Relay connections: opaque cursors, `PageInfo`, and the `…Connection`/`…Edge` types
//! (declared with [`connection_types!`] so each carries its own documentation).

use std::sync::Arc;

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::children::{ChildPage, ChildPageRequest, Cursor, LEGACY_CURSOR_TAG};
use crate::domain::listing_query::Sort;
use crate::domain::pagination::{Page, PageRequest};
use crate::error::Error;
use crate::graphql::fast::EdgeCursor;

/// Paging facts of one page of a connection.
#[derive(Clone, Debug, SimpleObject)]
pub struct PageInfo {
    /// Whether more items follow this page (pass `endCursor` as `after` to get them).
    pub has_next_page: bool,
    /// Whether items precede this page (pass `startCursor` as `before` to get them).
    pub has_previous_page: bool,
    /// Cursor of the first item of this page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page.
    pub end_cursor: Option<String>,
}

/// The opaque cursor of a position in a connection: base64url of `order:id` (id orders) or
/// `order:id:key` (the sort key in JSON), where `order` names the order (see
/// [`Sort::cursor_tag`]).
pub fn encode_child_cursor(cursor: &Cursor) -> String {
    match &cursor.key {
        None => crate::ids::encode_pair(&cursor.order, cursor.id),
        Some(key) => URL_SAFE_NO_PAD.encode(format!("{}:{}:{key}", cursor.order, cursor.id)),
    }
}

fn decode_child_cursor(field: &str, cursor: &str) -> Result<Cursor, Error> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (order, rest) = text.split_once(':')?;
            let known = order == LEGACY_CURSOR_TAG || Sort::from_cursor_tag(order).is_some();
            if !known {
                return None;
            }
            let (id, key) = match rest.split_once(':') {
                Some((id, key)) => (id, Some(key.to_owned())),
                None => (rest, None),
            };
            Some(Cursor {
                id: id.parse().ok()?,
                key,
                order: Arc::from(order),
            })
        })
        .ok_or_else(|| Error::invalid(field, format!("`{cursor}` is not a cursor of this API")))
}

/// The row id of a cursor of a top-level list (they are all in id order).
fn decode_cursor(field: &str, cursor: &str) -> Result<i64, Error> {
    let cursor = decode_child_cursor(field, cursor)?;
    cursor.check(field, &Sort::default())?;
    Ok(cursor.id)
}

/// Turns a nested connection field's arguments into a domain request.
pub fn child_page_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ChildPageRequest, Error> {
    Ok(ChildPageRequest {
        first: first.map(i64::from),
        after: after
            .map(|c| decode_child_cursor("after", &c))
            .transpose()?,
        last: last.map(i64::from),
        before: before
            .map(|c| decode_child_cursor("before", &c))
            .transpose()?,
    })
}

/// Turns a connection field's arguments into a domain page request.
pub fn page_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest, Error> {
    Ok(PageRequest {
        first: first.map(i64::from),
        after: after.map(|c| decode_cursor("after", &c)).transpose()?,
        last: last.map(i64::from),
        before: before.map(|c| decode_cursor("before", &c)).transpose()?,
        skip_total: false,
    })
}

/// [`page_request`] for a connection field: the rows are counted only when the selection
/// asks for `totalCount`.
pub fn page_request_for(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest, Error> {
    let mut request = page_request(first, after, last, before)?;
    request.skip_total = !ctx.look_ahead().field("totalCount").exists();
    Ok(request)
}

/// The edges (cursor and node), `PageInfo` and total of a domain page.
pub fn page_parts<M, N>(
    page: Page<M>,
    id_of: impl Fn(&M) -> i64,
    to_node: impl Fn(M) -> N,
) -> (Vec<(EdgeCursor, N)>, PageInfo, i64) {
    let order: Arc<str> = Arc::from(Sort::default().cursor_tag());
    let edges: Vec<(EdgeCursor, N)> = page
        .items
        .into_iter()
        .map(|m| {
            let cursor = Cursor {
                id: id_of(&m),
                key: None,
                order: order.clone(),
            };
            (EdgeCursor(cursor), to_node(m))
        })
        .collect();
    let info = page_info(&edges, page.has_next, page.has_previous);
    (edges, info, page.total as i64)
}

/// The edges, `PageInfo` and total of a nested page.
pub fn child_page_parts<M, N>(
    page: ChildPage<M>,
    to_node: impl Fn(M) -> N,
) -> (Vec<(EdgeCursor, N)>, PageInfo, i64) {
    let edges: Vec<(EdgeCursor, N)> = page
        .items
        .into_iter()
        .map(|(cursor, m)| (EdgeCursor(cursor), to_node(m)))
        .collect();
    let info = page_info(&edges, page.has_next, page.has_previous);
    (edges, info, page.total.unwrap_or(0) as i64)
}

fn page_info<N>(edges: &[(EdgeCursor, N)], has_next: bool, has_previous: bool) -> PageInfo {
    PageInfo {
        has_next_page: has_next,
        has_previous_page: has_previous,
        start_cursor: edges.first().map(|(c, _)| c.encode()),
        end_cursor: edges.last().map(|(c, _)| c.encode()),
    }
}

/// Declares `$conn` and `$edge` for node type `$node`, documented as lists of `$what`.
macro_rules! connection_types {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ", with paging facts and the total count.")]
        #[derive(Clone, Debug, async_graphql::SimpleObject)]
        #[graphql(complex)]
        pub struct $conn {
            #[doc = concat!("The ", $what, " of this page, each with its cursor.")]
            pub edges: $crate::graphql::fast::Edges<$edge>,
            /// Paging facts of this page.
            pub page_info: $crate::graphql::connection::PageInfo,
            #[doc = concat!("How many ", $what, " match, across all pages.")]
            pub total_count: i64,
        }

        #[doc = concat!("One of the ", $what, " in a page, with its cursor.")]
        #[derive(Clone, Debug, async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this item, for `after` and `before`.
            pub cursor: $crate::graphql::fast::EdgeCursor,
            /// The item.
            pub node: $node,
        }

        #[async_graphql::ComplexObject]
        impl $conn {
            #[doc = concat!("The ", $what, " of this page, without cursors.")]
            async fn nodes(&self) -> $crate::graphql::fast::Nodes<'_, $node> {
                $crate::graphql::fast::Nodes(self.edges.0.iter().map(|edge| &edge.node).collect())
            }
        }

        impl $crate::graphql::fast::Edge for $edge {
            type Node = $node;

            fn cursor(&self) -> String {
                self.cursor.encode()
            }

            fn node(&self) -> &$node {
                &self.node
            }
        }

        impl $conn {
            /// Builds the connection from a domain page.
            pub fn from_page<M>(
                page: $crate::domain::pagination::Page<M>,
                id_of: impl Fn(&M) -> i64,
            ) -> Self
            where
                $node: From<M>,
            {
                let (edges, page_info, total_count) =
                    $crate::graphql::connection::page_parts(page, id_of, <$node>::from);
                Self::from_parts(edges, page_info, total_count)
            }

            /// Builds the connection from a nested page.
            pub fn from_child_page<M>(page: $crate::domain::children::ChildPage<M>) -> Self
            where
                $node: From<M>,
            {
                let (edges, page_info, total_count) =
                    $crate::graphql::connection::child_page_parts(page, <$node>::from);
                Self::from_parts(edges, page_info, total_count)
            }

            fn from_parts(
                edges: Vec<($crate::graphql::fast::EdgeCursor, $node)>,
                page_info: $crate::graphql::connection::PageInfo,
                total_count: i64,
            ) -> Self {
                Self {
                    edges: $crate::graphql::fast::Edges(
                        edges
                            .into_iter()
                            .map(|(cursor, node)| $edge { cursor, node })
                            .collect(),
                    ),
                    page_info,
                    total_count,
                }
            }
        }
    };
}
pub(crate) use connection_types;
