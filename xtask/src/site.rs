//! The steps in order, into a fresh directory that replaces the previous site only once it is
//! complete (a running server never sees half a site's names).

use crate::compress::{self, Effort};
use crate::hashing::{self, SiteFiles};
use crate::paths::{repo_root, target_dir};
use crate::{previous_release, wasm_bindgen, wasm_build, wasm_compact, wasm_opt, wasm_split};
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

    let split = wasm_split::split(&wasm, &format!("{OUTPUT_NAME}.js"), &pkg, &staging)?;
    step.done("split at the lazy routes");
    let glue = wasm_bindgen::generate(&split.main, OUTPUT_NAME, &pkg)?;
    std::fs::remove_file(&split.main)?;
    step.done("wasm-bindgen");
    if let Profile::Release = profile {
        wasm_compact::compact_all(&split.chunks)?;
        step.done("chunks compacted (walrus)");
    }
    if let (Profile::Release, true) = (profile, options.wasm_opt) {
        wasm_opt::optimise_all(&[glue.wasm.as_path()], &target_dir().join("wasm-opt-cache"))?;
        step.done("wasm-opt -Oz (main module)");
    }

    let css = pkg.join(format!("{OUTPUT_NAME}.css"));
    std::fs::copy(repo_root().join("style/main.css"), &css).context("copying style/main.css")?;
    copy_dir(&repo_root().join("public"), &staging)?;
    let files = SiteFiles {
        glue: glue.js,
        wasm: glue.wasm,
        css,
        loader: split.loader,
        chunks: split.chunks,
        prefetch: split.prefetch,
    };
    let hashed = hashing::hash_names(&staging, &format!("/{PKG_DIR}"), OUTPUT_NAME, files)?;

    let effort = match profile {
        Profile::Debug => Effort::Quick,
        Profile::Release => Effort::Smallest,
    };
    compress::precompress_tree(
        &staging,
        &[hashing::HASH_FILE, hashing::IMMUTABLE_FILE, hashing::MANIFEST],
        effort,
    )?;
    step.done("brotli + gzip");

    let (wasm_size, wasm_br_size) = (size(&hashed.wasm), brotli_size(&hashed.wasm));
    let chunks_br: Vec<u64> = hashed.chunks.iter().map(|chunk| brotli_size(chunk)).collect();
    let bundles_br = hashed.bundles.iter().map(|bundle| brotli_size(bundle)).max().unwrap_or(0);

    // After the compression step: the kept files come with their own compressed copies.
    let kept = previous_release::keep(&site, &staging)?;
    step.done("the previous build's files kept");

    if site.exists() {
        std::fs::remove_dir_all(&site)?;
    }
    std::fs::rename(&staging, &site)?;
    println!(
        "site ({}) in {}: main WASM {wasm_size} bytes, {wasm_br_size} with brotli; {} page chunks, \
         {} with brotli in all, the largest {}; {} page bundles, the largest {bundles_br} with brotli; \
         {kept} files kept from the previous build; took {:.1} s",
        profile.name(),
        site.display(),
        chunks_br.len(),
        chunks_br.iter().sum::<u64>(),
        chunks_br.iter().max().unwrap_or(&0),
        hashed.bundles.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn size(path: &Path) -> u64 {
    path.metadata().map(|m| m.len()).unwrap_or(0)
}

/// The size of a file's brotli copy (`compress.rs` writes it beside the file).
fn brotli_size(path: &Path) -> u64 {
    size(&compress::with_suffix(path, "br"))
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
