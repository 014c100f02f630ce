//! Listing filters and projection.
