//! The steps in order, into a fresh directory that replaces the previous site only once it is
//! complete (a running server never sees half a site's names).

use crate::compress::{self, Effort};
use crate::hashing::{self, Asset};
use crate::paths::{repo_root, target_dir};
use crate::{wasm_bindgen, wasm_build, wasm_opt};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The name the server's `LeptosOptions::output_name` gives the files (server/src/startup.rs).
const OUTPUT_NAME: &str = "strongroom";
/// The package directory under the site root (`LeptosOptions::site_pkg_dir`).
const PKG_DIR: &str = "pkg";

pub struct Options {
    pub profile: Profile,
    /// Run `wasm-opt -Oz` (release only).
    pub wasm_opt: bool,
    /// Where to write the site instead of `<target dir>/site/<profile>`.
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy)]
pub enum Profile {
    Debug,
    Release,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

pub fn build(options: Options) -> anyhow::Result<()> {
    let profile = options.profile;
    let started = Instant::now();
    let mut step = Steps::new();
    let wasm = wasm_build::build_app(profile)?;
    step.done("cargo build (wasm32)");

    let site = options.out.unwrap_or_else(|| target_dir().join("site").join(profile.name()));
    let staging = site.with_extension("partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let pkg = staging.join(PKG_DIR);
    std::fs::create_dir_all(&pkg)?;

    let glue = wasm_bindgen::generate(&wasm, OUTPUT_NAME, &pkg)?;
    step.done("wasm-bindgen");
    if let (Profile::Release, true) = (profile, options.wasm_opt) {
        wasm_opt::optimise(&glue.wasm)?;
        step.done("wasm-opt -Oz");
    }

    let css = pkg.join(format!("{OUTPUT_NAME}.css"));
    std::fs::copy(repo_root().join("style/main.css"), &css).context("copying style/main.css")?;
    copy_dir(&repo_root().join("public"), &staging)?;
    let assets = [
        Asset { path: glue.js, kind: "js" },
        Asset { path: glue.wasm, kind: "wasm" },
        Asset { path: css, kind: "css" },
    ];
    let hashed = hashing::hash_names(&staging, OUTPUT_NAME, &assets)?;

    let effort = match profile {
        Profile::Debug => Effort::Quick,
        Profile::Release => Effort::Smallest,
    };
    compress::precompress_tree(&staging, &[hashing::HASH_FILE], effort)?;
    step.done("brotli + gzip");

    let wasm = &hashed[1];
    let size = |path: &Path| path.metadata().map(|m| m.len()).unwrap_or(0);
    let wasm_br = wasm.with_file_name(format!("{}.br", wasm.file_name().unwrap().to_string_lossy()));
    let (wasm_size, wasm_br_size) = (size(wasm), size(&wasm_br));

    if site.exists() {
        std::fs::remove_dir_all(&site)?;
    }
    std::fs::rename(&staging, &site)?;
    println!(
        "site ({}) in {}: WASM {wasm_size} bytes, {wasm_br_size} with brotli; took {:.1} s",
        profile.name(),
        site.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints how long each step took, so slow ones show.
struct Steps(Instant);

impl Steps {
    fn new() -> Steps {
        Steps(Instant::now())
    }

    fn done(&mut self, what: &str) {
        eprintln!("  {what}: {:.1} s", self.0.elapsed().as_secs_f64());
        self.0 = Instant::now();
    }
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
