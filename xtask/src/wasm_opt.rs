//! Step 4b (release): `wasm-opt -Oz`, binaryen's size optimiser, on the main module (the chunks
//! are compacted by walrus instead: `wasm_compact.rs` says why).
//!
//! It must be binaryen 132 from npm (`scripts/lib.sh` installs it and puts it on PATH): Debian's
//! binaryen 108 produces a WASM that fails to hydrate.
//!
//! The outputs are kept in a cache keyed by the input's hash, so a site build with the main
//! module unchanged (each `scripts/run`, or a change to one page) skips its 10 s.

use anyhow::{bail, Context};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What wasm-opt is run with (the features cargo-leptos enables: what rustc's wasm32 target emits
/// by default); part of the cache key, so changing it misses the cache.
const ARGS: [&str; 3] = ["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"];

/// Optimises every file in place, as many at once as there are cores, taking the output from
/// `cache_dir` when the same input was optimised before. Afterwards the cache holds this build's
/// outputs only.
pub fn optimise_all(files: &[&Path], cache_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(cache_dir).with_context(|| format!("creating {}", cache_dir.display()))?;
    let used: HashSet<PathBuf> =
        files.par_iter().map(|file| optimise_cached(file, cache_dir)).collect::<anyhow::Result<_>>()?;
    for entry in std::fs::read_dir(cache_dir)? {
        let path = entry?.path();
        if !used.contains(&path) {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Optimises `wasm` in place, from the cache when it can; returns its cache entry.
fn optimise_cached(wasm: &Path, cache_dir: &Path) -> anyhow::Result<PathBuf> {
    let input = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let key = Sha256::new().chain_update(ARGS.join(" ")).chain_update([0]).chain_update(&input).finalize();
    let entry = cache_dir.join(format!("{:x}.wasm", key));
    if entry.is_file() {
        std::fs::copy(&entry, wasm).with_context(|| format!("copying {}", entry.display()))?;
    } else {
        optimise(wasm)?;
        // Written beside, then renamed: an interrupted build leaves no half entry behind.
        let partial = entry.with_extension("partial");
        std::fs::copy(wasm, &partial).with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &entry)?;
    }
    Ok(entry)
}

fn optimise(wasm: &Path) -> anyhow::Result<()> {
    let program = std::env::var_os("WASM_OPT").unwrap_or_else(|| "wasm-opt".into());
    let output =
        Command::new(&program).args(ARGS).arg(wasm).arg("-o").arg(wasm).output().with_context(|| {
            format!(
                "could not run {} (binaryen 132: `npm install binaryen@132.0.0` and put its \
                 node_modules/.bin on PATH, or set WASM_OPT)",
                program.to_string_lossy()
            )
        })?;
    // Its warnings are about the name sections the split writes (binaryen does not know one
    // of their subsections), which it drops anyway: shown only when it fails.
    if !output.status.success() {
        bail!(
            "wasm-opt failed on {} ({}): {}",
            wasm.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_input_optimised_before_comes_from_the_cache_and_stale_entries_go() {
        let dir = tempfile::tempdir().unwrap();
        // A stand-in for wasm-opt: `program ARGS… IN -o OUT` writes "opt(IN)" to OUT and counts its runs.
        let program = dir.path().join("fake-wasm-opt");
        let runs = dir.path().join("runs");
        std::fs::write(
            &program,
            format!("#!/bin/sh\necho run >> {}\nin=\"$4\"; out=\"$6\"\nprintf 'opt(%s)' \"$(cat \"$in\")\" > \"$out.tmp\" && mv \"$out.tmp\" \"$out\"\n", runs.display()),
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::env::set_var("WASM_OPT", &program);
        let cache = dir.path().join("cache");
        let (a, b) = (dir.path().join("a.wasm"), dir.path().join("b.wasm"));
        let run_count = || std::fs::read_to_string(&runs).unwrap_or_default().lines().count();

        // Writes the inputs as a site build would, optimises them, returns the outputs.
        let build = |a_in: &str, b_in: &str| {
            std::fs::write(&a, a_in).unwrap();
            std::fs::write(&b, b_in).unwrap();
            optimise_all(&[&a, &b], &cache).unwrap();
            (std::fs::read_to_string(&a).unwrap(), std::fs::read_to_string(&b).unwrap())
        };

        assert_eq!(build("A", "B"), ("opt(A)".into(), "opt(B)".into()));
        assert_eq!(run_count(), 2);
        // The same inputs again: nothing runs, the outputs are the same.
        assert_eq!(build("A", "B"), ("opt(A)".into(), "opt(B)".into()));
        assert_eq!(run_count(), 2);
        // One input changed: it alone runs, and the cache keeps this build's two entries only.
        assert_eq!(build("A", "B2"), ("opt(A)".into(), "opt(B2)".into()));
        assert_eq!(run_count(), 3);
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    }
}
