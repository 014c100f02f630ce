//! The read API: nested connections batched per level, filters, order, projection, history.

mod batching;
mod filters;
mod guards;
mod history;
