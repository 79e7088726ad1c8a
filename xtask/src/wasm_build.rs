//! Step 1: the app's WASM, by cargo.

use crate::paths::{repo_root, target_dir};
use crate::site::Profile;
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Builds `app` for the browser and returns the path of its `.wasm`.
pub fn build_app(profile: Profile) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(repo_root())
        // `cargo rustc` to ask for the `cdylib` the browser needs: app's Cargo.toml declares
        // only an `rlib` (it says why).
        .args(["rustc", "-p", "app", "--lib", "--crate-type", "cdylib", "--target", WASM_TARGET])
        // `--cfg erase_components` comes from .cargo/config.toml, for this build and the
        // server's alike: it changes how views render, so both sides must have it or neither
        // (set for the wasm target alone, the release WASM failed to hydrate).
        .args(["--no-default-features", "--features", "hydrate"]);
    if let Profile::Release = profile {
        command.args(["--profile", "wasm-release"]);
    }
    // For the app's own link only: the linker keeps its relocations, which the split
    // (`wasm_split.rs`) reads to tell what each function needs.
    command.args(["--", "-C", "link-arg=--emit-relocs"]);
    let status = command.status().context("could not run cargo")?;
    if !status.success() {
        bail!("the app's WASM build failed ({status})");
    }
    let profile_dir = match profile {
        Profile::Debug => "debug",
        Profile::Release => "wasm-release",
    };
    Ok(target_dir().join(WASM_TARGET).join(profile_dir).join("app.wasm"))
}
