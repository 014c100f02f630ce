//! The mass-removal guard: a `FULL` import (or a sync) that would mark more than a set share
//! of the live listings removed is refused, unless the caller says it means it.
//!
//! A scraper that crashed and wrote `[]`, or a site that served a captcha page, would
//! otherwise wipe the catalogue, and the next sync the website. The limit is the source's (for
//! imports) or the target's (for syncs) `config.max_removal_percent`, an integer from 0 to 100,
//! default 20. The boundary: a run is refused when it would remove **more than** that
//! percentage of the live listings, or **all** of them (when there are any), whatever the
//! limit. Exactly the limit passes; with 100 only removing everything is refused; with 0 any
//! removal is.

use serde_json::Value;

use crate::error::Error;

/// The limit when the config sets none.
pub const DEFAULT_MAX_REMOVAL_PERCENT: u64 = 20;

/// The config key of the limit.
const KEY: &str = "max_removal_percent";

/// The limit of a source's or target's config.
pub fn max_removal_percent(config: &Value) -> u64 {
    config
        .get(KEY)
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_REMOVAL_PERCENT)
        .min(100)
}

/// Checks `config.max_removal_percent` (absent, or an integer from 0 to 100).
pub fn validate_config(config: &Value) -> Result<(), Error> {
    match config.get(KEY) {
        None => Ok(()),
        Some(value) if value.as_u64().is_some_and(|n| n <= 100) => Ok(()),
        Some(_) => Err(Error::invalid(
            format!("input.config.{KEY}"),
            "must be an integer from 0 to 100: the largest share of live listings, in percent, \
             one FULL import or sync may mark removed (default 20), e.g. 35",
        )),
    }
}

/// Whether the guard refuses removing `would_remove` of `live` listings with `max_percent`.
pub fn refuses(would_remove: u64, live: u64, max_percent: u64) -> bool {
    live > 0
        && would_remove > 0
        && (would_remove >= live || would_remove * 100 > live * max_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_the_limit_or_everything_is_refused() {
        assert!(!refuses(20, 100, 20));
        assert!(refuses(21, 100, 20));
        assert!(!refuses(0, 100, 0));
        assert!(refuses(1, 100, 0));
        assert!(!refuses(99, 100, 100));
        assert!(refuses(100, 100, 100));
        assert!(refuses(1, 1, 100));
        assert!(!refuses(0, 0, 20));
    }

    #[test]
    fn the_limit_is_read_and_checked() {
        assert_eq!(max_removal_percent(&serde_json::json!({})), 20);
        assert_eq!(
            max_removal_percent(&serde_json::json!({ "max_removal_percent": 50 })),
            50
        );
        assert!(validate_config(&serde_json::json!({ "max_removal_percent": 100 })).is_ok());
        for bad in [
            serde_json::json!(101),
            serde_json::json!(-1),
            serde_json::json!(2.5),
            serde_json::json!("20"),
        ] {
            assert!(validate_config(&serde_json::json!({ "max_removal_percent": bad })).is_err());
        }
    }
}
