//! Errors in the API's own words: what the database says stays in the log.

use sea_orm::{ActiveModelTrait, Set};
use sync_manager::entity::tenant;
use sync_manager::error::Error;

/// A unique-constraint violation that no domain rule named (a race between two writers)
/// reaches the client as a `CONFLICT` in our words, without the database's message, which
/// names tables, indexes and values.
#[tokio::test]
async fn a_raw_unique_violation_does_not_quote_the_database() {
    let app = crate::common::TestApp::spawn().await;
    let row = || tenant::ActiveModel {
        name: Set("Acme".into()),
        slug: Set("acme".into()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    row().insert(&app.db).await.unwrap();
    let err = Error::from(row().insert(&app.db).await.unwrap_err());
    assert_eq!(err.code(), "CONFLICT");
    let message = err.to_string();
    assert_eq!(
        message,
        "another object with the same unique value already exists (it may have been created \
         at the same moment); reload and try again"
    );
    for leak in ["tenants", "slug", "UNIQUE", "duplicate", "constraint"] {
        assert!(!message.contains(leak), "{message}");
    }
}
