use super::extract::{ApiError, Caller};
use crate::http::AppState;
use app::model::format_timestamp_rfc3339;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

/// `GET /user-info` (DescribeUserResponse).
pub async fn user_info(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let user = state.ports.accounts.user_info(&actor).await?;
    Ok(Json(json!({
        "user": {
            "id": user.id,
            "userName": user.email,
            "email": user.email,
            "firstName": user.display_name,
            "dateCreated": format_timestamp_rfc3339(user.created_at),
            "deleted": false,
        },
        "needConsent": false,
        "defaultWorkspaceId": Value::Null,
    })))
}
