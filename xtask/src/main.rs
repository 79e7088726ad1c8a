//! `cargo xtask site [--release]`: builds the browser side of Strongroom into
//! `<target dir>/site/{debug,release}`, where the server serves it from (`LEPTOS_SITE_ROOT`).
//!
//! It replaces cargo-leptos for the one thing this project needs from it, so a fresh machine
//! installs neither cargo-leptos nor wasm-bindgen-cli, and the server is built by plain cargo
//! with the same features as the test build (nothing is compiled twice):
//! 1. the app's WASM (`cargo build -p app --lib --target wasm32-unknown-unknown`, feature
//!    `hydrate`; the `wasm-release` profile for `--release`),
//! 2. its JS glue, by wasm-bindgen's own library,
//! 3. `wasm-opt -Oz` for `--release` (binaryen from npm, see `wasm_opt.rs`),
//! 4. the stylesheet and `public/` copied in,
//! 5. content-hashed names for the JS, WASM and CSS, and the hash file Leptos reads,
//! 6. a brotli and a gzip copy next to every file, for the server to send as they are.
//!
//! The argument parsing is hand-written: one subcommand and one flag do not need a parser crate.

mod compress;
mod hashing;
mod paths;
mod site;
mod wasm_bindgen;
mod wasm_build;
mod wasm_opt;

use anyhow::bail;
use site::Profile;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["site"] => site::build(Profile::Debug),
        ["site", "--release"] => site::build(Profile::Release),
        _ => bail!("usage: cargo xtask site [--release]"),
    }
}
