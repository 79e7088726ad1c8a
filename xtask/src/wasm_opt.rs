//! Step 3 (release): `wasm-opt -Oz`, binaryen's size optimiser.
//!
//! It must be binaryen 132 from npm (`scripts/lib.sh` installs it and puts it on PATH): Debian's
//! binaryen 108 produces a WASM that fails to hydrate.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;

/// Optimises every file, as many at once as there are cores: most are small page chunks, whose
/// time is mostly the program's start (about 1.4 s each for binaryen's npm build).
pub fn optimise_all(files: &[&Path]) -> anyhow::Result<()> {
    let workers = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    while let Some(file) = files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        optimise(file)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|handle| handle.join().expect("a wasm-opt thread panicked"))
    })
}

fn optimise(wasm: &Path) -> anyhow::Result<()> {
    let program = std::env::var_os("WASM_OPT").unwrap_or_else(|| "wasm-opt".into());
    // The same features cargo-leptos enables: what rustc's wasm32 target emits by default.
    let output = Command::new(&program)
        .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .output()
        .with_context(|| {
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
