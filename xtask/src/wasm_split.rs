//! Step 2: the WASM cut at its split points into a main module and chunks, so a first visit
//! downloads what every page shares and the code of the page it opens, not of all the others.
//!
//! The split points are the app's lazy routes (`app/src/routes.rs`, Leptos' `#[lazy_route]`).
//! Each becomes an import the main module resolves through a small JS loader, which fetches the
//! chunk holding that code when the page is first shown. `wasm_split_cli_support` is the library
//! cargo-leptos' `--split` uses; it reads the relocations the linker kept (`--emit-relocs`,
//! `wasm_build.rs`) to know what each function needs.

use anyhow::{anyhow, Context};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The loader's name before it gets its content hash (`hashing.rs`). The main module imports it
/// under this name: the placeholder Leptos and cargo-leptos use.
pub const LOADER: &str = "__wasm_split.______________________.js";

pub struct Split {
    /// The main module, for wasm-bindgen.
    pub main: PathBuf,
    /// The chunks, written into the package directory as `<stem>.wasm`.
    pub chunks: Vec<PathBuf>,
    /// The loader, in the package directory.
    pub loader: PathBuf,
    /// For each split point, the chunks (file stems) it needs: the server tells the browser to
    /// fetch those of the page it renders beside the main module (Leptos' `HydrationScripts`).
    pub prefetch: HashMap<String, Vec<String>>,
}

/// Splits `input`. The loader imports `initSync` from the JS glue, named `glue_name` for now;
/// `main_dir` receives the main module (it is not a site file: wasm-bindgen reads it).
pub fn split(input: &Path, glue_name: &str, pkg_dir: &Path, main_dir: &Path) -> anyhow::Result<Split> {
    let wasm = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let main = main_dir.join("main_split.wasm");
    let main_module = format!("./{glue_name}");
    let link_name = format!("./{LOADER}");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg_dir;
    options.main_out_path = &main;
    options.main_module = &main_module;
    options.link_name = &link_name;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|error| anyhow!("{error:?}"))
        .with_context(|| format!("splitting {}", input.display()))?;
    Ok(Split {
        main,
        chunks: split.split_modules,
        loader: pkg_dir.join(LOADER),
        prefetch: split.prefetch_map,
    })
}
