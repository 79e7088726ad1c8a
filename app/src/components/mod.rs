//! Reusable pieces of the UI.

mod add_secret_form;
mod audit_filters;
mod audit_table;
mod check_fix;
mod clipboard;
mod cloud_identity_panel;
mod compute_check;
mod compute_env_form;
mod confirm_delete;
mod credentials_form;
mod deferred;
mod error_panel;
mod launch_fields_form;
mod page_owned_action;
mod role_badge;
mod role_change;
mod secrets_manager;
mod timestamp;
mod top_bar;
mod update_value_form;

pub use audit_filters::{use_audit_query, AuditFilters, AuditQuery};
pub use audit_table::AuditTable;
pub use check_fix::CheckFix;
pub use clipboard::copy_node_text;
pub use cloud_identity_panel::CloudIdentityPanel;
pub use compute_check::{check_outcome, checked_status, ComputeCheckButton};
pub use compute_env_form::add_compute_env_form;
pub use confirm_delete::ConfirmDelete;
pub use credentials_form::{add_credentials_form, replace_credentials_form};
pub use deferred::{Deferred, NotLoaded};
pub use error_panel::{action_error, ErrorPanel, FormError};
pub use launch_fields_form::{LaunchFieldsForm, LaunchFieldsInput};
pub use page_owned_action::page_owned_action;
pub use role_badge::RoleBadge;
pub use role_change::{RoleChange, RoleChangeAsked};
pub use secrets_manager::SecretsManager;
pub use timestamp::Timestamp;
pub use top_bar::TopBar;

use crate::error::AppError;
use crate::model::WorkspaceView;
use leptos::prelude::Resource;

/// The workspace header and what the caller may do there: the workspace layout provides it as a
/// context to its tabs and to the components inside them.
pub type WorkspaceResource = Resource<Result<WorkspaceView, AppError>>;
