//! Wire types shared by the browser and the server. Nothing here ever holds a secret value.

mod names;
mod role;
mod secret_name;
mod types;

pub use names::*;
pub use role::*;
pub use secret_name::*;
pub use types::*;
