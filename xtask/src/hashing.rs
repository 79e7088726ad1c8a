//! Step 5: content-hashed names, so the server can tell browsers to keep these files forever
//! (`Cache-Control: immutable`): a new build gives a changed file a new name.
//!
//! Leptos finds the names through a hash file of `kind: hash` lines (`js`, `wasm`, `css`), read
//! by `HydrationScripts` and `HashedStylesheet` (leptos 0.8, `LeptosOptions::hash_files` and
//! `hash_file`), which name the files `<output name>.<hash>.<kind>` under the package directory.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The hash file's name, in the site root; the server points Leptos at it.
pub const HASH_FILE: &str = "hash.txt";

/// 80 bits of SHA-256: enough that two builds never share a name by chance.
const HASH_BYTES: usize = 10;

/// One file to rename: where it is and the kind Leptos knows it by (also its extension).
pub struct Asset {
    pub path: PathBuf,
    pub kind: &'static str,
}

/// Renames each asset to `<output name>.<hash>.<kind>` in its directory and writes the hash
/// file into `site_root`. Returns the new paths.
pub fn hash_names(site_root: &Path, output_name: &str, assets: &[Asset]) -> anyhow::Result<Vec<PathBuf>> {
    let mut hash_file = String::new();
    let mut renamed = Vec::new();
    for asset in assets {
        let bytes =
            std::fs::read(&asset.path).with_context(|| format!("reading {}", asset.path.display()))?;
        let hash = content_hash(&bytes);
        let new_path = asset.path.with_file_name(format!("{output_name}.{hash}.{}", asset.kind));
        std::fs::rename(&asset.path, &new_path)
            .with_context(|| format!("renaming {} to {}", asset.path.display(), new_path.display()))?;
        writeln!(hash_file, "{}: {hash}", asset.kind)?;
        renamed.push(new_path);
    }
    std::fs::write(site_root.join(HASH_FILE), hash_file).context("writing the hash file")?;
    Ok(renamed)
}

fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..HASH_BYTES].iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_get_their_content_hash_in_their_name_and_in_the_hash_file() {
        let site = std::env::temp_dir().join(format!("xtask-hashing-{}", std::process::id()));
        let pkg = site.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("app.js"), "js").unwrap();
        std::fs::write(pkg.join("app_bg.wasm"), "wasm").unwrap();
        let assets = [
            Asset { path: pkg.join("app.js"), kind: "js" },
            Asset { path: pkg.join("app_bg.wasm"), kind: "wasm" },
        ];

        let renamed = hash_names(&site, "strongroom", &assets).unwrap();

        let js_hash = content_hash(b"js");
        let wasm_hash = content_hash(b"wasm");
        assert_eq!(js_hash.len(), 2 * HASH_BYTES);
        assert_ne!(js_hash, wasm_hash);
        assert_eq!(renamed[0], pkg.join(format!("strongroom.{js_hash}.js")));
        assert_eq!(renamed[1], pkg.join(format!("strongroom.{wasm_hash}.wasm")));
        assert!(renamed.iter().all(|path| path.exists()));
        assert!(!pkg.join("app.js").exists());
        let hash_file = std::fs::read_to_string(site.join(HASH_FILE)).unwrap();
        assert_eq!(hash_file, format!("js: {js_hash}\nwasm: {wasm_hash}\n"));
        std::fs::remove_dir_all(&site).unwrap();
    }
}
