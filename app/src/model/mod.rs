//! Wire types shared by the browser and the server. Nothing here ever holds a secret value.

mod audit;
mod compute;
mod names;
mod role;
mod runs;
mod secret_name;
mod tokens;
mod types;

pub use audit::*;
pub use compute::*;
pub use names::*;
pub use role::*;
pub use runs::*;
pub use secret_name::*;
pub use tokens::*;
pub use types::*;
