//! Reusable pieces of the UI.

mod audit_table;
mod error_panel;
mod role_badge;
mod secrets_manager;
mod top_bar;

pub use audit_table::AuditTable;
pub use error_panel::{ErrorPanel, FormError};
pub use role_badge::RoleBadge;
pub use secrets_manager::SecretsManager;
pub use top_bar::TopBar;
