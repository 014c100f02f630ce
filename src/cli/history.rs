//! `restore-snapshot`, `pin-snapshot`: a listing's history from the command line.

use clap::Args;
use serde_json::json;

use crate::cli::output;
use crate::config::Config;
use crate::domain::history::{self, PinnedSnapshot, RestoredListing, SnapshotRef};
use crate::ids::{SourcePropertyId, TargetPropertyId};
use crate::store::scope::TenantScope;
use sea_orm::DatabaseConnection;

/// Arguments of `restore-snapshot`.
#[derive(Args, Debug)]
pub(crate) struct RestoreSnapshotArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// The snapshot: the global id of a source or target snapshot (GraphQL's `Snapshot.id`).
    snapshot: String,
    /// Target snapshots only: the listing's version you read; a listing changed since is
    /// refused (exit code 5) and nothing changes.
    #[arg(long)]
    expected_version: Option<i64>,
    /// Print one JSON object, as GraphQL's `restoreSnapshot` answers: `restored` and the
    /// listing's `id`, `externalId` and (target listings) `version`.
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `pin-snapshot`.
#[derive(Args, Debug)]
pub(crate) struct PinSnapshotArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// The snapshot: the global id of a source or target snapshot.
    snapshot: String,
    /// Unpin it instead: cleanup may delete it again once it is old enough.
    #[arg(long)]
    unpin: bool,
    /// Print one JSON object: the snapshot's `id` and `pinned`.
    #[arg(long)]
    pub(super) json: bool,
}

/// The database, the tenant's scope and the snapshot a command names.
async fn open(
    config: &Config,
    tenant: &str,
    snapshot: &str,
) -> anyhow::Result<(DatabaseConnection, TenantScope, SnapshotRef)> {
    let (db, scope) = super::open_tenant(config, tenant).await?;
    let snapshot = SnapshotRef::from_global(snapshot, "SNAPSHOT")?;
    Ok((db, scope, snapshot))
}

/// Makes a snapshot's data current again.
pub(crate) async fn restore_snapshot(
    config: &Config,
    args: RestoreSnapshotArgs,
) -> anyhow::Result<()> {
    let (db, scope, snapshot) = open(config, &args.tenant, &args.snapshot).await?;
    let restore = history::restore_snapshot(&db, &scope, snapshot, args.expected_version).await?;
    let (listing, text_listing) = match &restore.listing {
        RestoredListing::Source(model) => (
            json!({
                "id": SourcePropertyId(model.id).to_global(),
                "externalId": model.external_id,
            }),
            format!("source listing `{}`", model.external_id),
        ),
        RestoredListing::Target(model) => (
            json!({
                "id": TargetPropertyId(model.id).to_global(),
                "externalId": model.external_id,
                "version": model.version,
            }),
            format!(
                "target listing `{}` (now version {})",
                model.external_id, model.version
            ),
        ),
    };
    let key = match restore.listing {
        RestoredListing::Source(_) => "sourceProperty",
        RestoredListing::Target(_) => "targetProperty",
    };
    let text = if restore.restored {
        format!("restored {text_listing} from snapshot {}", args.snapshot)
    } else {
        format!(
            "{text_listing} already has the data of snapshot {}: nothing changed",
            args.snapshot
        )
    };
    output::print(
        args.json,
        &json!({ "restored": restore.restored, key: listing }),
        &text,
    );
    Ok(())
}

/// Pins or unpins a snapshot.
pub(crate) async fn pin_snapshot(config: &Config, args: PinSnapshotArgs) -> anyhow::Result<()> {
    let (db, scope, snapshot) = open(config, &args.tenant, &args.snapshot).await?;
    let pinned = history::pin_snapshot(&db, &scope, snapshot, !args.unpin).await?;
    let (key, pinned) = match pinned {
        PinnedSnapshot::Source(model) => ("sourceSnapshot", model.pinned),
        PinnedSnapshot::Target(model) => ("targetSnapshot", model.pinned),
    };
    output::print(
        args.json,
        &json!({ key: { "id": args.snapshot, "pinned": pinned } }),
        &format!(
            "snapshot {} {}",
            args.snapshot,
            if pinned {
                "pinned: cleanup keeps it"
            } else {
                "unpinned"
            }
        ),
    );
    Ok(())
}
