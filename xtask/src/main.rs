//! `cargo xtask site [--release]`: builds the browser side of Strongroom into
//! `<target dir>/site/{debug,release}`, where the server serves it from (`LEPTOS_SITE_ROOT`).
//!
//! It replaces cargo-leptos for the one thing this project needs from it, so a fresh machine
//! installs neither cargo-leptos nor wasm-bindgen-cli, and the server is built by plain cargo
//! with the same features as the test build (nothing is compiled twice):
//! 1. the app's WASM (`cargo build -p app --lib --target wasm32-unknown-unknown`, feature
//!    `hydrate`; the `wasm-release` profile for `--release`),
//! 2. the WASM cut into a main module and a chunk per lazily loaded page (`wasm_split.rs`),
//! 3. the main module's JS glue, by wasm-bindgen's own library,
//! 4. for `--release`: the chunks rewritten without what they never use (walrus,
//!    `wasm_compact.rs`), and `wasm-opt -Oz` on the main module (binaryen from npm, see
//!    `wasm_opt.rs`),
//! 5. the stylesheet and `public/` copied in,
//! 6. content-hashed names for every file of the package directory, and the hash file Leptos
//!    reads; each page's chunks also as one bundle, fetched by a tab's first page
//!    (`page_bundles.rs`),
//! 7. a brotli and a gzip copy next to every file, for the server to send as they are,
//! 8. the previous build's hashed files kept beside the new ones, for tabs still running it
//!    (`previous_release.rs`).
//!
//! Also `cargo xtask wasm-report <file.wasm>` (where a WASM's bytes go, `wasm_report.rs`), and
//! for measuring what each step buys (`scripts/bench-wire`): `--no-wasm-opt` skips step 4's
//! wasm-opt and `--out <dir>` writes the site elsewhere than `<target dir>/site/<profile>`.
//!
//! The argument parsing is hand-written: two subcommands and three flags do not need a parser.

mod compress;
mod hashing;
mod page_bundles;
mod paths;
mod previous_release;
mod site;
mod wasm_bindgen;
mod wasm_build;
mod wasm_compact;
mod wasm_opt;
mod wasm_report;
mod wasm_split;

use anyhow::bail;
use site::{Options, Profile};
use std::path::PathBuf;

const USAGE: &str = "usage: cargo xtask site [--release] [--no-wasm-opt] [--out DIR]\n       \
                     cargo xtask wasm-report FILE.wasm";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("site") => site::build(site_options(args)?),
        Some("wasm-report") => match (args.next(), args.next()) {
            (Some(file), None) => wasm_report::report(file.as_ref()),
            _ => bail!(USAGE),
        },
        _ => bail!(USAGE),
    }
}

fn site_options(mut args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut options = Options { profile: Profile::Debug, wasm_opt: true, out: None };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--release" => options.profile = Profile::Release,
            "--no-wasm-opt" => options.wasm_opt = false,
            "--out" => match args.next() {
                Some(dir) => options.out = Some(PathBuf::from(dir)),
                None => bail!(USAGE),
            },
            _ => bail!(USAGE),
        }
    }
    Ok(options)
}
