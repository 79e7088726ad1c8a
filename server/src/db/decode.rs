//! Stored names decoded into the model's types: a run's status and stage, a copy's state and
//! source, a run's target. The same types write them back (`as_str`, `RunTarget::to_json`), so a
//! name is spelled in one place.
//!
//! Guarantee: a stored name the code does not know is a decode error of its column (the query
//! fails, nothing panics), never silently read as some other state.

use crate::providers::RunTarget;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::str::FromStr;

/// Column `column` of `row`, parsed by the type's own `FromStr` (its `as_str` names).
pub(crate) fn named<T: FromStr<Err = String>>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let stored: String = row.try_get(column)?;
    stored.parse().map_err(|reason| column_error(column, reason))
}

/// Column `column` of `row`: a run's target; a run with no copies (one Nextflow reported on its
/// own) stores none (`""`).
pub(crate) fn target(row: &AnyRow, column: &str) -> Result<Option<RunTarget>, sqlx::Error> {
    let stored: String = row.try_get(column)?;
    if stored.is_empty() {
        return Ok(None);
    }
    RunTarget::from_json(&stored).map(Some).map_err(|reason| column_error(column, reason))
}

/// A run's target that must be there (a run with copies to make or delete).
pub(crate) fn required_target(row: &AnyRow, column: &str) -> Result<RunTarget, sqlx::Error> {
    target(row, column)?.ok_or_else(|| column_error(column, "the run has no target".into()))
}

fn column_error(column: &str, reason: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_string(), source: reason.into() }
}
