//! Reusable pieces of the UI.

mod audit_table;
mod compute_check;
mod compute_env_form;
mod confirm_delete;
mod credentials_form;
mod error_panel;
mod role_badge;
mod secrets_manager;
mod top_bar;

pub use audit_table::AuditTable;
pub use compute_check::ComputeCheckButton;
pub use compute_env_form::AddComputeEnvForm;
pub use confirm_delete::ConfirmDelete;
pub use credentials_form::AddCredentialsForm;
pub use error_panel::{ErrorPanel, FormError};
pub use role_badge::RoleBadge;
pub use secrets_manager::SecretsManager;
pub use top_bar::TopBar;
