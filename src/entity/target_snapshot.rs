//! `target_snapshots`: a replaced version of a target listing.

super::snapshot_entity!("target_snapshots", target_property_id);
