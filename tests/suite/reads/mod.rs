//! The read API: nested connections batched per level, filters, order, projection, history.

mod batching;
mod cache;
mod columns;
mod cursors;
mod fast;
mod filters;
mod guards;
mod history;
mod indexed_paths;
mod nodes;
mod one_pager;
mod sessions;
