//! `create-source`, `create-target`.

use clap::Args;
use serde_json::{Value, json};

use crate::cli::choices::{ConflictPolicyChoice, SourceKindChoice, TargetKindChoice};
use crate::cli::output;
use crate::config::Config;
use crate::domain::sources::{self, NewSource};
use crate::domain::targets::{self, NewTarget};
use crate::error::Error;
use crate::ids::{SourceId, TargetId};

/// Arguments of `create-source`.
#[derive(Args, Debug)]
pub(crate) struct CreateSourceArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// Name of the source, unique in the tenant.
    name: String,
    /// How its listings arrive.
    #[arg(long, value_enum, default_value = "json")]
    kind: SourceKindChoice,
    /// Settings as a JSON object, e.g. '{"id_field":"listing_id"}'.
    #[arg(long, default_value = "{}")]
    config: String,
    /// Create it inactive (it refuses imports and syncs until activated).
    #[arg(long)]
    inactive: bool,
    /// Print one JSON object, as GraphQL's `createSource` answers: `source`.
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `create-target`.
#[derive(Args, Debug)]
pub(crate) struct CreateTargetArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// Name of the target, unique in the tenant.
    name: String,
    /// What the target is.
    #[arg(long, value_enum, default_value = "website")]
    kind: TargetKindChoice,
    /// What a sync does with listings edited on the target by hand.
    #[arg(long, value_enum, default_value = "flag")]
    conflict_policy: ConflictPolicyChoice,
    /// Settings as a JSON object.
    #[arg(long, default_value = "{}")]
    config: String,
    /// Create it inactive (it refuses syncs until activated).
    #[arg(long)]
    inactive: bool,
    /// Print one JSON object, as GraphQL's `createTarget` answers: `target`.
    #[arg(long)]
    pub(super) json: bool,
}

fn parse_config(raw: &str) -> Result<Value, Error> {
    serde_json::from_str(raw).map_err(|e| Error::invalid("--config", format!("is not JSON: {e}")))
}

/// Creates a source.
pub(crate) async fn create_source(config: &Config, args: CreateSourceArgs) -> anyhow::Result<()> {
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let new = NewSource {
        name: args.name,
        kind: args.kind.into(),
        active: !args.inactive,
        config: parse_config(&args.config)?,
    };
    let model = sources::create_source(&db, &scope, new).await?;
    let id = SourceId(model.id).to_global();
    output::print(
        args.json,
        &json!({ "source": output::source_json(&model) }),
        &format!("created source `{}` ({id})", model.name),
    );
    Ok(())
}

/// Creates a target.
pub(crate) async fn create_target(config: &Config, args: CreateTargetArgs) -> anyhow::Result<()> {
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let new = NewTarget {
        name: args.name,
        kind: args.kind.into(),
        active: !args.inactive,
        config: parse_config(&args.config)?,
        conflict_policy: args.conflict_policy.into(),
    };
    let model = targets::create_target(&db, &scope, new).await?;
    let id = TargetId(model.id).to_global();
    output::print(
        args.json,
        &json!({ "target": output::target_json(&model) }),
        &format!("created target `{}` ({id})", model.name),
    );
    Ok(())
}
