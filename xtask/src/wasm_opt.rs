//! Step 3 (release): `wasm-opt -Oz`, binaryen's size optimiser.
//!
//! It must be binaryen 132 from npm (`scripts/lib.sh` installs it and puts it on PATH): Debian's
//! binaryen 108 produces a WASM that fails to hydrate.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;

pub fn optimise(wasm: &Path) -> anyhow::Result<()> {
    let program = std::env::var_os("WASM_OPT").unwrap_or_else(|| "wasm-opt".into());
    // The same features cargo-leptos enables: what rustc's wasm32 target emits by default.
    let status = Command::new(&program)
        .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .with_context(|| {
            format!(
                "could not run {} (binaryen 132: `npm install binaryen@132.0.0` and put its \
                 node_modules/.bin on PATH, or set WASM_OPT)",
                program.to_string_lossy()
            )
        })?;
    if !status.success() {
        bail!("wasm-opt failed ({status})");
    }
    Ok(())
}
