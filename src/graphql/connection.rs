//! Relay connections: opaque cursors, `PageInfo`, and the `…Connection`/`…Edge` types
//! (declared with [`connection_types!`] so each carries its own documentation).

use async_graphql::SimpleObject;
use async_graphql::connection::{CursorType, OpaqueCursor};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;
use crate::graphql::connection_lists::EdgeCursor;
use crate::store::listing_filter::Sort;
use crate::store::pager::{Cursor, Page, PageRequest};

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

/// The cursor given as argument `field`, from its opaque text (JSON in base64url, the form
/// async-graphql's [`OpaqueCursor`] writes).
fn decode_cursor(field: &str, text: &str) -> Result<Cursor, Error> {
    OpaqueCursor::<Cursor>::decode_cursor(text)
        .map(|cursor| cursor.0)
        .map_err(|_| {
            if of_an_earlier_version(text) {
                Error::invalid(
                    field,
                    "is a cursor from an earlier version of this API; ask for the first page \
                     again (without `after`/`before`) and page on with its cursors",
                )
            } else {
                Error::invalid(field, format!("`{text}` is not a cursor of this API"))
            }
        })
}

/// Whether `text` is a cursor as earlier versions wrote them: `order:id` or `order:id:key`
/// in base64url.
fn of_an_earlier_version(text: &str) -> bool {
    let Some(text) = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return false;
    };
    let mut parts = text.splitn(3, ':');
    let (Some(order), Some(id)) = (parts.next(), parts.next()) else {
        return false;
    };
    (order == "cursor" || Sort::from_cursor_tag(order).is_some()) && id.parse::<i64>().is_ok()
}

/// Turns a connection field's arguments into a domain page request (without the total).
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
        with_total: false,
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
    request.with_total = ctx.look_ahead().field("totalCount").exists();
    Ok(request)
}

/// The edges (cursor and node), `PageInfo` and total of a domain page.
pub fn page_parts<M, N>(
    page: Page<M>,
    to_node: impl Fn(M) -> N,
) -> (Vec<(EdgeCursor, N)>, PageInfo, i64) {
    let edges: Vec<(EdgeCursor, N)> = page
        .items
        .into_iter()
        .map(|(cursor, m)| (EdgeCursor(cursor), to_node(m)))
        .collect();
    let info = PageInfo {
        has_next_page: page.has_next,
        has_previous_page: page.has_previous,
        start_cursor: edges.first().map(|(c, _)| c.encode()),
        end_cursor: edges.last().map(|(c, _)| c.encode()),
    };
    (edges, info, page.total.unwrap_or(0) as i64)
}

/// Declares `$conn` and `$edge` for node type `$node`, documented as lists of `$what`.
macro_rules! connection_types {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ", with paging facts and the total count.")]
        #[derive(Clone, Debug, async_graphql::SimpleObject)]
        #[graphql(complex)]
        pub struct $conn {
            #[doc = concat!("The ", $what, " of this page, each with its cursor.")]
            pub edges: $crate::graphql::connection_lists::Edges<$edge>,
            /// Paging facts of this page.
            pub page_info: $crate::graphql::connection::PageInfo,
            #[doc = concat!("How many ", $what, " match, across all pages.")]
            pub total_count: i64,
        }

        #[doc = concat!("One of the ", $what, " in a page, with its cursor.")]
        #[derive(Clone, Debug, async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this item, for `after` and `before`.
            pub cursor: $crate::graphql::connection_lists::EdgeCursor,
            /// The item.
            pub node: $node,
        }

        #[async_graphql::ComplexObject]
        impl $conn {
            #[doc = concat!("The ", $what, " of this page, without cursors.")]
            async fn nodes(&self) -> $crate::graphql::connection_lists::Nodes<'_, $node> {
                $crate::graphql::connection_lists::Nodes(
                    self.edges.0.iter().map(|edge| &edge.node).collect(),
                )
            }
        }

        impl $crate::graphql::connection_lists::Edge for $edge {
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
            pub fn from_page<M>(page: $crate::store::pager::Page<M>) -> Self
            where
                $node: From<M>,
            {
                let (edges, page_info, total_count) =
                    $crate::graphql::connection::page_parts(page, <$node>::from);
                Self {
                    edges: $crate::graphql::connection_lists::Edges(
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
