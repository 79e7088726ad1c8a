//! Step 6: content-hashed names, so the server can tell browsers to keep these files forever
//! (`Cache-Control: immutable`): a new build gives a changed file a new name.
//!
//! Leptos finds the names through a hash file of `kind: hash` lines, read by `HydrationScripts`
//! and `HashedStylesheet` (leptos 0.8, `LeptosOptions::hash_files` and `hash_file`): `js`, `wasm`
//! and `css` name `<output name>.<hash>.<kind>`, `split` names the chunk loader
//! `__wasm_split.<hash>.js`. The chunks' names are in the loader, and in the pages' bundles
//! (`page_bundles.rs`, which this step writes once the chunks have their names) that the
//! manifest names for the server to preload. Every hashed file's URL path is also listed in
//! `immutable.txt`, for the server's `Cache-Control`.
//!
//! The JS glue and the loader import each other, so neither can be named by a hash of its final
//! text alone. The loader's hash covers its own text and the glue's, both before either names the
//! other; the glue's covers its final text, which names the loader. So whenever either file
//! changes, the loader's name changes, and so does the glue's.

use crate::wasm_split::LOADER;
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The hash file's name, in the site root; the server points Leptos at it.
pub const HASH_FILE: &str = "hash.txt";
/// The URL path of every file named by its content, one per line, in the site root.
pub const IMMUTABLE_FILE: &str = "immutable.txt";
/// What each split point needs, by file stem: a page's bundle (`page_bundles.rs`), the deferred
/// forms' chunks. Leptos reads it from the package directory under this name when the hash file
/// has no `manifest` line, to preload a page's bundle. Only the server reads it.
pub const MANIFEST: &str = "__wasm_split_manifest.json";

/// 80 bits of SHA-256: enough that two builds never share a name by chance.
const HASH_BYTES: usize = 10;

/// The site's files before hashing, all in the package directory.
pub struct SiteFiles {
    pub glue: PathBuf,
    pub wasm: PathBuf,
    pub css: PathBuf,
    pub loader: PathBuf,
    pub chunks: Vec<PathBuf>,
    pub prefetch: HashMap<String, Vec<String>>,
}

/// Their new paths.
pub struct Hashed {
    pub wasm: PathBuf,
    pub chunks: Vec<PathBuf>,
    /// Each page's chunks as one file (`page_bundles.rs`).
    pub bundles: Vec<PathBuf>,
}

/// Renames the files to their hashed names, points the glue, the loader and the manifest at the
/// new names, and writes the hash file and the list of immutable files into `site_root`.
/// `pkg_url` is the package directory's URL path (`/pkg`).
pub fn hash_names(
    site_root: &Path,
    pkg_url: &str,
    output_name: &str,
    files: SiteFiles,
) -> anyhow::Result<Hashed> {
    let pkg = files.glue.parent().context("the glue is in a directory")?.to_path_buf();
    let mut immutable = Vec::new();

    let mut loader = read_text(&files.loader)?;
    let mut new_stems = HashMap::new();
    let mut chunks = Vec::new();
    for chunk in &files.chunks {
        let stem = file_stem(chunk)?;
        let old_ref = format!("\"./{stem}.wasm\"");
        if !loader.contains(&old_ref) {
            bail!("the chunk loader does not name {stem}.wasm");
        }
        let (hash, new_name) = rename_to_hash(chunk, &stem, "wasm")?;
        loader = loader.replace(&old_ref, &format!("\"./{new_name}\""));
        chunks.push(pkg.join(&new_name));
        immutable.push(new_name);
        new_stems.insert(stem.clone(), format!("{stem}.{hash}"));
    }

    let mut manifest: HashMap<String, Vec<String>> = files
        .prefetch
        .into_iter()
        .map(|(split, stems)| {
            let stems = stems.into_iter().map(|stem| new_stems.get(&stem).cloned().unwrap_or(stem)).collect();
            (split, stems)
        })
        .collect();
    let bundles = crate::page_bundles::bundle_pages(&pkg, &mut manifest, &mut loader, chunks.len())?;
    immutable.extend(bundles.iter().cloned());

    let glue = read_text(&files.glue)?;
    let loader_hash = content_hash(format!("{loader}\n{glue}").as_bytes());
    let loader_name = format!("__wasm_split.{loader_hash}.js");
    // Only the import's path: the glue also names the loader as the key of the WASM's import
    // object, which must stay the module name the WASM itself imports.
    let glue = glue.replace(&format!("from \"./{LOADER}\""), &format!("from \"./{loader_name}\""));
    let js_hash = content_hash(glue.as_bytes());
    let glue_name = format!("{output_name}.{js_hash}.js");
    let old_glue_ref = format!("\"./{}\"", file_name(&files.glue)?);
    if !loader.contains(&old_glue_ref) {
        bail!("the chunk loader does not import {old_glue_ref}");
    }
    let loader = loader.replace(&old_glue_ref, &format!("\"./{glue_name}\""));
    write_renamed(&files.glue, &glue_name, &glue)?;
    write_renamed(&files.loader, &loader_name, &loader)?;
    immutable.extend([glue_name, loader_name]);

    let (wasm_hash, wasm_name) = rename_to_hash(&files.wasm, output_name, "wasm")?;
    let (css_hash, css_name) = rename_to_hash(&files.css, output_name, "css")?;
    let wasm = pkg.join(&wasm_name);
    immutable.extend([wasm_name, css_name]);

    std::fs::write(pkg.join(MANIFEST), serde_json::to_string(&manifest)?).context("writing the manifest")?;

    let hash_file = format!("js: {js_hash}\nwasm: {wasm_hash}\ncss: {css_hash}\nsplit: {loader_hash}\n");
    std::fs::write(site_root.join(HASH_FILE), hash_file).context("writing the hash file")?;
    let immutable: String = immutable.iter().map(|name| format!("{pkg_url}/{name}\n")).collect();
    std::fs::write(site_root.join(IMMUTABLE_FILE), immutable)
        .context("writing the list of immutable files")?;
    let bundles = bundles.iter().map(|name| pkg.join(name)).collect();
    Ok(Hashed { wasm, chunks, bundles })
}

pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..HASH_BYTES].iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    Ok(path.file_name().context("a file has a name")?.to_string_lossy().into_owned())
}

fn file_stem(path: &Path) -> anyhow::Result<String> {
    Ok(path.file_stem().context("a file has a name")?.to_string_lossy().into_owned())
}

/// Renames `path` to `<stem>.<its content hash>.<extension>` beside it; returns the hash and the
/// new file name.
fn rename_to_hash(path: &Path, stem: &str, extension: &str) -> anyhow::Result<(String, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let hash = content_hash(&bytes);
    let new_name = format!("{stem}.{hash}.{extension}");
    let new_path = path.with_file_name(&new_name);
    std::fs::rename(path, &new_path)
        .with_context(|| format!("renaming {} to {}", path.display(), new_path.display()))?;
    Ok((hash, new_name))
}

/// Writes `text` under `new_name` beside `path`, then removes `path`.
fn write_renamed(path: &Path, new_name: &str, text: &str) -> anyhow::Result<()> {
    let new_path = path.with_file_name(new_name);
    std::fs::write(&new_path, text).with_context(|| format!("writing {}", new_path.display()))?;
    std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package directory as the split and wasm-bindgen leave it: the glue imports the loader by
    /// its placeholder name, the loader imports the glue and fetches one chunk.
    fn built_site(site: &Path, glue_extra: &str) -> SiteFiles {
        let pkg = site.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let glue = format!(
            "import * as s from \"./{LOADER}\";\nconst imports = {{ \"./{LOADER}\": s }};{glue_extra}"
        );
        std::fs::write(pkg.join("app.js"), glue).unwrap();
        std::fs::write(
            pkg.join(LOADER),
            "import { initSync } from \"./app.js\";\nconst c = fetch(new URL(\"./split_page.wasm\", import.meta.url));",
        )
        .unwrap();
        std::fs::write(pkg.join("split_page.wasm"), "chunk").unwrap();
        std::fs::write(pkg.join("app_bg.wasm"), "wasm").unwrap();
        std::fs::write(pkg.join("app.css"), "css").unwrap();
        SiteFiles {
            glue: pkg.join("app.js"),
            wasm: pkg.join("app_bg.wasm"),
            css: pkg.join("app.css"),
            loader: pkg.join(LOADER),
            chunks: vec![pkg.join("split_page.wasm")],
            prefetch: HashMap::from([("page".to_string(), vec!["split_page".to_string()])]),
        }
    }

    fn hash_file_lines(site: &Path) -> HashMap<String, String> {
        std::fs::read_to_string(site.join(HASH_FILE))
            .unwrap()
            .lines()
            .map(|line| line.split_once(": ").unwrap())
            .map(|(kind, hash)| (kind.to_string(), hash.to_string()))
            .collect()
    }

    #[test]
    fn every_file_gets_its_hashed_name_and_the_references_follow() {
        let site = tempfile::tempdir().unwrap();
        let hashed = hash_names(site.path(), "/pkg", "strongroom", built_site(site.path(), "")).unwrap();
        let pkg = site.path().join("pkg");

        let hashes = hash_file_lines(site.path());
        let glue_name = format!("strongroom.{}.js", hashes["js"]);
        let loader_name = format!("__wasm_split.{}.js", hashes["split"]);
        let chunk_name = format!("split_page.{}.wasm", content_hash(b"chunk"));
        assert_eq!(hashes["wasm"], content_hash(b"wasm"));
        assert_eq!(hashed.wasm, pkg.join(format!("strongroom.{}.wasm", hashes["wasm"])));
        assert_eq!(hashed.chunks, vec![pkg.join(&chunk_name)]);

        let glue = std::fs::read_to_string(pkg.join(&glue_name)).unwrap();
        assert_eq!(
            glue,
            format!("import * as s from \"./{loader_name}\";\nconst imports = {{ \"./{LOADER}\": s }};")
        );
        assert_eq!(hashes["js"], content_hash(glue.as_bytes()));
        let loader = std::fs::read_to_string(pkg.join(&loader_name)).unwrap();
        assert!(loader.contains(&format!("from \"./{glue_name}\"")), "{loader}");
        assert!(loader.contains(&format!("new URL(\"./{chunk_name}\"")), "{loader}");

        let manifest: HashMap<String, Vec<String>> =
            serde_json::from_str(&std::fs::read_to_string(pkg.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest["page"], vec![chunk_name.trim_end_matches(".wasm").to_string()]);

        let mut on_disk: Vec<String> = std::fs::read_dir(&pkg)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut immutable: Vec<String> = std::fs::read_to_string(site.path().join(IMMUTABLE_FILE))
            .unwrap()
            .lines()
            .map(|line| line.strip_prefix("/pkg/").unwrap().to_string())
            .collect();
        immutable.push(MANIFEST.to_string());
        immutable.sort();
        assert_eq!(on_disk, immutable, "every file but the manifest is hashed, and no old name is left");
    }

    #[test]
    fn a_changed_glue_renames_the_loader_too() {
        let first = tempfile::tempdir().unwrap();
        hash_names(first.path(), "/pkg", "strongroom", built_site(first.path(), "")).unwrap();
        let second = tempfile::tempdir().unwrap();
        hash_names(second.path(), "/pkg", "strongroom", built_site(second.path(), "// changed")).unwrap();
        let (first, second) = (hash_file_lines(first.path()), hash_file_lines(second.path()));
        assert_ne!(first["js"], second["js"]);
        assert_ne!(first["split"], second["split"], "a cached loader would import the old glue");
        assert_eq!(first["wasm"], second["wasm"]);
    }

    #[test]
    fn a_loader_that_does_not_name_a_chunk_is_refused() {
        let site = tempfile::tempdir().unwrap();
        let mut files = built_site(site.path(), "");
        std::fs::write(site.path().join("pkg/split_other.wasm"), "other").unwrap();
        files.chunks.push(site.path().join("pkg/split_other.wasm"));
        let error = hash_names(site.path(), "/pkg", "strongroom", files).err().unwrap();
        assert!(error.to_string().contains("split_other.wasm"), "{error}");
    }
}
