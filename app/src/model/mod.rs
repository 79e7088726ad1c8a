//! Wire types shared by the browser and the server. Nothing here ever holds a secret value.

mod names;
mod role;
mod types;

pub use names::*;
pub use role::*;
pub use types::*;
