//! Wire types shared by the browser and the server. Nothing here ever holds a secret value.

mod accounts;
mod audit;
mod cloud_identity;
mod compute;
mod compute_rules;
mod credentials;
mod dashed_name;
mod identities;
mod names;
mod next_page;
mod role;
mod runs;
mod secret_name;
mod secrets;
mod timestamps;
mod tokens;
mod workspaces;

pub use accounts::*;
pub use audit::*;
pub use cloud_identity::*;
pub use compute::*;
pub use compute_rules::*;
pub use credentials::*;
pub use identities::*;
pub use names::*;
pub use next_page::*;
pub use role::*;
pub use runs::*;
pub use secret_name::*;
pub use secrets::*;
pub use timestamps::*;
pub use tokens::*;
pub use workspaces::*;
