//! `POST /sources/{id}/import`: a large import streamed as the request body, NDJSON
//! (`Content-Type: application/x-ndjson`) or a JSON array (`application/json`), for scrapes
//! too large for one GraphQL variable.
//!
//! The body is never held whole: it is read as it arrives through the CLI's listing reader
//! ([`crate::stream`]) into one [`ImportSession`], so one transaction imports all of it or
//! nothing, in the memory of a few batches. Authentication, scopes, the per-key throttle and
//! the answers' error shape (`errors[].extensions.code`, `field` naming `line 7` or `item 6`)
//! are those of `/graphql`; the result is the `importProperties` payload.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::ErrorExtensions as _;
use async_graphql::futures_util::StreamExt as _;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::mpsc;

use super::answer::{error_response, failure_response};
use super::auth::authenticate;
use super::{AppState, idempotency, observe};
use crate::domain::api_keys::Authenticated;
use crate::domain::audit::Actor;
use crate::domain::import::{ImportMode, ImportOptions, ImportSession};
use crate::entity::import_run;
use crate::error::{Error, code};
use crate::graphql::context::TenantAuth;
use crate::ids::SourceId;
use crate::stream::feed::Feed;
use crate::stream::{Format, JsonReading, ListingFile};

/// Chunks of the body in flight between the connection and the reader's thread.
const CHUNKS_IN_FLIGHT: usize = 16;

/// The answers' media type.
const MEDIA: &str = "application/json";

/// `POST /sources/{id}/import?mode=FULL&dryRun=true&allowMassRemoval=true`.
pub(super) async fn import_upload(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    Path(source): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(format) = format_of(&headers) else {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MEDIA,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send the listings as `Content-Type: application/x-ndjson` (one listing a line) \
             or `application/json` (an array of listings)"
                .into(),
        );
    };
    let limit = state.inner.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return too_large(limit);
    }
    let auth = match authenticate(&state, &headers, &state.inner.db).await {
        Ok(auth) => auth,
        Err(err) => return failure_response(MEDIA, &err),
    };
    let client = client.map(|Extension(ConnectInfo(address))| address.ip());
    let _turn = match state.inner.throttle.admit(&auth.tenant, client).await {
        Ok(turn) => turn,
        Err(limited) => return limited.response(MEDIA),
    };
    let granted = match granted_key(&auth.tenant) {
        Ok(granted) => granted,
        Err(err) => return answer_error(&err),
    };
    if headers.contains_key(idempotency::HEADER) {
        return answer_error(&Error::invalid(
            "Idempotency-Key",
            "is not taken by a streamed upload, whose input is known only once it is read; \
             sending the same listings again is harmless (unchanged listings are not written)",
        ));
    }
    let request = Upload::parse(&source, query.as_deref(), Actor::ApiKey(granted.key_id));
    let upload = match request {
        Ok(upload) => upload,
        Err(err) => return answer_error(&err),
    };
    import_upload_body(&state, granted, upload, body, format, limit).await
}

/// The request's valid key, or why there is none.
fn granted_key(tenant: &TenantAuth) -> Result<&Authenticated, Error> {
    match tenant {
        TenantAuth::Granted(granted) => Ok(granted),
        TenantAuth::Refused(reason) => Err(Error::Unauthenticated(reason.clone())),
        TenantAuth::Missing => Err(Error::Unauthenticated(
            "an API key is required: send it in the `X-API-Key` header (or `Authorization: \
             Bearer`)"
                .into(),
        )),
    }
}

/// Imports the body into `upload`'s source in one session and answers its payload.
async fn import_upload_body(
    state: &AppState,
    granted: &Authenticated,
    upload: Upload,
    body: Body,
    format: Format,
    limit: u64,
) -> Response {
    let session = ImportSession::begin(
        &state.inner.db,
        &granted.scope,
        upload.source_id,
        upload.options,
    )
    .await;
    let imported = match session {
        Ok(session) => import_body(session, body, format, limit).await,
        Err(err) => Err(err.into()),
    };
    match imported {
        Ok((run, listings)) => {
            let payload = json!({
                "importRun": crate::cli::output::import_run_json(&run),
                "listings": listings,
            });
            (StatusCode::OK, axum::Json(payload)).into_response()
        }
        Err(Refused::TooLarge) => too_large(limit),
        Err(Refused::Domain(err)) => answer_error(&err),
    }
}

/// The format a `Content-Type` names.
fn format_of(headers: &HeaderMap) -> Option<Format> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next()?.trim().to_ascii_lowercase();
    match media.as_str() {
        "application/x-ndjson" => Some(Format::Ndjson),
        "application/json" => Some(Format::Json),
        _ => None,
    }
}

/// What the URL asks for.
struct Upload {
    source_id: SourceId,
    options: ImportOptions,
}

impl Upload {
    /// Reads the source id (global, or the numeric id) and the query parameters.
    fn parse(source: &str, query: Option<&str>, actor: Actor) -> Result<Self, Error> {
        let source_id = match source.parse::<i64>() {
            Ok(id) => SourceId(id),
            Err(_) => SourceId::from_global(source, "sourceId")?,
        };
        let mut options = ImportOptions {
            mode: ImportMode::Incremental,
            dry_run: false,
            allow_mass_removal: false,
            actor,
        };
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match name.as_ref() {
                "mode" => {
                    options.mode = match value.to_ascii_uppercase().as_str() {
                        "INCREMENTAL" => ImportMode::Incremental,
                        "FULL" => ImportMode::Full,
                        _ => return Err(Error::invalid("mode", "is neither INCREMENTAL nor FULL")),
                    }
                }
                "dryRun" => options.dry_run = flag("dryRun", &value)?,
                "allowMassRemoval" => {
                    options.allow_mass_removal = flag("allowMassRemoval", &value)?
                }
                other => {
                    return Err(Error::invalid(
                        other,
                        "is not a parameter of an upload (mode, dryRun, allowMassRemoval)",
                    ));
                }
            }
        }
        Ok(Self { source_id, options })
    }
}

fn flag(name: &str, value: &str) -> Result<bool, Error> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(name, "is neither true nor false")),
    }
}

/// Why an upload failed.
enum Refused {
    /// The body passed the upload limit (nothing was written).
    TooLarge,
    /// The import failed.
    Domain(Error),
}

impl From<Error> for Refused {
    fn from(err: Error) -> Self {
        Self::Domain(err)
    }
}

/// Streams `body` into `session` and commits; returns the run and the listings read.
async fn import_body(
    session: ImportSession,
    body: Body,
    format: Format,
    limit: u64,
) -> Result<(import_run::Model, usize), Refused> {
    let over_limit = Arc::new(AtomicBool::new(false));
    let (chunks, received) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(forward(body, limit, chunks, Arc::clone(&over_limit)));
    let file = ListingFile::from_body(BodyReader::new(received), format);
    let mut feed = Feed::new(session);
    let added = feed.add(file, JsonReading::Items, |_, _, _| {}).await;
    if over_limit.load(Ordering::Relaxed) {
        return Err(Refused::TooLarge);
    }
    added?;
    let listings = feed.listings();
    Ok((feed.finish().await?, listings))
}

/// Hands the body's chunks to the reader until it ends, fails, passes `limit` bytes (then
/// `over_limit` is set and the reader gets an error) or the reader stops listening.
async fn forward(
    body: Body,
    limit: u64,
    chunks: mpsc::Sender<io::Result<Bytes>>,
    over_limit: Arc<AtomicBool>,
) {
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let message = match chunk {
            Ok(chunk) => {
                total += chunk.len() as u64;
                if total > limit {
                    over_limit.store(true, Ordering::Relaxed);
                    Err(io::Error::other("the body is larger than the upload limit"))
                } else {
                    Ok(chunk)
                }
            }
            Err(err) => Err(io::Error::other(err)),
        };
        let failed = message.is_err();
        if chunks.send(message).await.is_err() || failed {
            return;
        }
    }
}

/// The body as a blocking reader, for the reader's thread.
struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl BodyReader {
    fn new(chunks: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        Self {
            chunks,
            current: Bytes::new(),
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(err)) => return Err(err),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// The `413` answer.
fn too_large(limit: u64) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        MEDIA,
        code::PAYLOAD_TOO_LARGE,
        format!(
            "the upload is larger than the server's limit of {limit} bytes \
             (SYNC_MAX_UPLOAD_BYTES); nothing was imported"
        ),
    )
}

/// A domain error as `/graphql` shows it (`errors[0].extensions`: `code`, `field`, …), with
/// the HTTP status its code calls for.
fn answer_error(err: &Error) -> Response {
    let status = match err {
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        Error::Conflict(_)
        | Error::MassRemoval(_)
        | Error::StaleVersion { .. }
        | Error::IdempotencyKeyReused(_) => StatusCode::CONFLICT,
        Error::Unavailable(_) | Error::Internal(_) => return failure_response(MEDIA, err),
    };
    let mut body = observe::error_body(err.code(), err.to_string());
    if let (Some(extensions), Some(extra)) = (
        body["errors"][0]["extensions"].as_object_mut(),
        err.extend().extensions,
    ) && let Ok(serde_json::Value::Object(extra)) = serde_json::to_value(extra)
    {
        for (name, value) in extra {
            extensions.entry(name).or_insert(value);
        }
    }
    (status, axum::Json(body)).into_response()
}
