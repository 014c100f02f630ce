//! `source_snapshots`: a replaced version of a source listing.

super::snapshot_entity!("source_snapshots", source_property_id);
