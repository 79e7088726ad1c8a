//! Step 6, within the hashing: each page's chunks also as one file, its bundle, which the first
//! page a tab opens fetches instead of its chunks one by one.
//!
//! The split gives a page its own chunk and, for the code it shares with other pages, a chunk
//! for every set of pages sharing it: 32 to 148 small files a page, each compressed on its own.
//! Compressed as one file they are 30 to 40 % smaller with brotli (measured on 2026-12-03: the
//! home page's 100 chunks 71,900 bytes one by one, 47,401 as one), and a first visit is one
//! request instead of a hundred.
//!
//! A bundle is `u32` (little endian) header length, the header (JSON: `[[chunk name, byte
//! length], …]`, in order; the name is the file's without its hash and extension), then the
//! chunks' bytes one after the other. It is named
//! `bundle_<split point>.<content hash>.wasm`: Leptos preloads a page's manifest entries as
//! `<stem>.wasm` (`leptos_integration_utils`), and the manifest now names the bundle.
//!
//! The loader (wasm_split's generated JS) is changed in two places, each checked:
//! - every chunk's `fetch(new URL(…))` goes through `__srFetch`, which takes the chunk from the
//!   bundle when one is being fetched and holds it, else fetches the chunk as before;
//! - each page's exported load function first asks for its bundle (`__srPage`), which is only
//!   fetched for the first page of the tab: a later page fetches only the chunks it still lacks,
//!   as before, rather than a bundle repeating those already loaded.
//!
//! A bundle that cannot be fetched (the network, or a release replaced it) costs nothing more:
//! each chunk is then fetched on its own.

use anyhow::{bail, Context};
use std::collections::HashMap;
use std::path::Path;

/// Bundles the pages' chunks (`manifest`: split point to chunk stems, already hashed, in
/// `pkg`), points the manifest's pages at their bundles and makes `loader` use them. Returns the
/// bundles' file names. `chunk_count` is how many chunk fetches the loader must hold.
pub fn bundle_pages(
    pkg: &Path,
    manifest: &mut HashMap<String, Vec<String>>,
    loader: &mut String,
    chunk_count: usize,
) -> anyhow::Result<Vec<String>> {
    let fetches = loader.matches(CHUNK_FETCH).count();
    if fetches != chunk_count {
        bail!(
            "the chunk loader fetches {fetches} files, not its {chunk_count} chunks: its generator changed"
        );
    }
    *loader = loader.replace(CHUNK_FETCH, "__srFetch(new URL(");
    loader.push_str(RUNTIME);

    let mut pages: Vec<(&String, &mut Vec<String>)> =
        manifest.iter_mut().filter(|(split, _)| is_page(split)).collect();
    // In order, so the loader's text, and so its hash, is the same for the same build.
    pages.sort_by_key(|(split, _)| *split);
    let mut bundled = Vec::new();
    for (split, stems) in pages {
        let bytes = bundle(pkg, stems)?;
        let stem = format!("bundle_{split}.{}", crate::hashing::content_hash(&bytes));
        let name = format!("{stem}.wasm");
        std::fs::write(pkg.join(&name), &bytes).with_context(|| format!("writing {name}"))?;

        let export = format!("export const __wasm_split_load_{split} = ");
        if loader.matches(&export).count() != 1 {
            bail!("the chunk loader does not export one load function for {split}");
        }
        *loader = loader.replace(&export, &format!("const __sr_unbundled_{split} = "));
        loader.push_str(&format!(
            "export const __wasm_split_load_{split} = __srPage(\"./{name}\", __sr_unbundled_{split});\n"
        ));
        *stems = vec![stem];
        bundled.push(name);
    }
    Ok(bundled)
}

/// How the generated loader starts each chunk's fetch.
const CHUNK_FETCH: &str = "fetch(new URL(";

/// A lazy route's split point (`#[lazy_route]`): a page, which the server preloads. The others
/// (the deferred forms) are fetched when first shown, so they keep their chunks.
fn is_page(split: &str) -> bool {
    split.contains("_route_view_")
}

/// The chunks of `stems`, with the header naming them.
///
/// Named by their stems without the hash (`chunk_20`): unique within a build, which the bundle's
/// own hashed name ties to its loader, and 2.5 kB smaller with brotli on the Compute tab than the
/// hashed names. Largest first: brotli then finds more of the small chunks' code in what came
/// before (1 to 1.5 kB less per page than in the split's order).
fn bundle(pkg: &Path, stems: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut chunks = Vec::new();
    for stem in stems {
        let name = format!("{stem}.wasm");
        let bytes = std::fs::read(pkg.join(&name)).with_context(|| format!("reading the chunk {name}"))?;
        let unhashed = stem.split('.').next().unwrap_or(stem).to_string();
        chunks.push((unhashed, bytes));
    }
    chunks.sort_by(|(a_name, a), (b_name, b)| b.len().cmp(&a.len()).then_with(|| a_name.cmp(b_name)));
    let mut header: Vec<(&str, usize)> = Vec::new();
    let mut bodies = Vec::new();
    for (name, bytes) in &chunks {
        if header.iter().any(|(seen, _)| seen == name) {
            bail!("two chunks of one page are both named {name}");
        }
        header.push((name, bytes.len()));
        bodies.extend_from_slice(bytes);
    }
    let header = serde_json::to_vec(&header)?;
    let mut out = Vec::with_capacity(4 + header.len() + bodies.len());
    out.extend_from_slice(&u32::try_from(header.len())?.to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&bodies);
    Ok(out)
}

/// Appended to the loader; its functions are the ones the changed lines call.
const RUNTIME: &str = r#"
// Strongroom's page bundles (xtask/src/page_bundles.rs): the first page of a tab fetches its
// chunks as one file; every other fetch is the chunk's own, as before.
let __srStarted = false;
let __srBundle = undefined;
function __srPage(bundleUrl, load) {
    return (callbackIndex, callbackData) => {
        if (!__srStarted) {
            __srStarted = true;
            __srBundle = fetch(new URL(bundleUrl, import.meta.url))
                .then((response) => {
                    if (!response.ok) throw new Error(`${bundleUrl}: HTTP ${response.status}`);
                    return response.arrayBuffer();
                })
                .then(__srParts);
            __srBundle.catch((error) => console.warn("fetching the page's chunks one by one:", error));
        }
        return load(callbackIndex, callbackData);
    };
}
function __srParts(buffer) {
    const headerLength = new DataView(buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
    const parts = new Map();
    let offset = 4 + headerLength;
    for (const [name, length] of header) {
        parts.set(name, new Uint8Array(buffer, offset, length));
        offset += length;
    }
    if (offset !== buffer.byteLength) throw new Error("a page bundle's length does not match its header");
    return parts;
}
// `chunk_20.<hash>.wasm` is `chunk_20` in a bundle.
function __srFetch(url) {
    __srStarted = true;
    if (__srBundle === undefined) return fetch(url);
    const name = url.pathname.split("/").pop().split(".")[0];
    return __srBundle.then(
        (parts) => {
            const bytes = parts.get(name);
            if (bytes === undefined) return fetch(url);
            parts.delete(name);
            return new Response(bytes, { headers: { "Content-Type": "application/wasm" } });
        },
        () => fetch(url),
    );
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "__home_page_route_view_1";

    fn loader() -> String {
        format!(
            "const __chunk_1 = makeLoad(() => {{\n    const src = fetch(new URL(\"./chunk_1.aa.wasm\", import.meta.url));\n}}, []);\n\
             export const __wasm_split_load_{KEY} = wrapAsyncCb(makeLoad(() => {{\n    const src = fetch(new URL(\"./split_home.bb.wasm\", import.meta.url));\n}}, [__chunk_1]));\n\
             export const __wasm_split_load_deferred_forms = wrapAsyncCb(makeLoad(() => {{\n    const src = fetch(new URL(\"./split_deferred_forms.cc.wasm\", import.meta.url));\n}}, [__chunk_1]));\n"
        )
    }

    fn pkg_with_chunks() -> (tempfile::TempDir, HashMap<String, Vec<String>>) {
        let pkg = tempfile::tempdir().unwrap();
        std::fs::write(pkg.path().join("chunk_1.aa.wasm"), b"shared").unwrap();
        std::fs::write(pkg.path().join("split_home.bb.wasm"), b"home page").unwrap();
        std::fs::write(pkg.path().join("split_deferred_forms.cc.wasm"), b"forms").unwrap();
        let manifest = HashMap::from([
            (KEY.to_string(), vec!["chunk_1.aa".to_string(), "split_home.bb".to_string()]),
            (
                "deferred_forms".to_string(),
                vec!["chunk_1.aa".to_string(), "split_deferred_forms.cc".to_string()],
            ),
        ]);
        (pkg, manifest)
    }

    #[test]
    fn a_page_bundle_holds_its_chunks_largest_first_and_the_manifest_names_it() {
        let (pkg, mut manifest) = pkg_with_chunks();
        let mut loader = loader();
        let names = bundle_pages(pkg.path(), &mut manifest, &mut loader, 3).unwrap();

        assert_eq!(names.len(), 1, "the page alone, not the deferred forms");
        let bytes = std::fs::read(pkg.path().join(&names[0])).unwrap();
        assert_eq!(manifest[KEY], vec![names[0].trim_end_matches(".wasm").to_string()]);
        assert!(names[0].starts_with(&format!("bundle_{KEY}.")), "{}", names[0]);
        assert_eq!(manifest["deferred_forms"], vec!["chunk_1.aa", "split_deferred_forms.cc"]);

        let header_length = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        let header: Vec<(String, usize)> = serde_json::from_slice(&bytes[4..4 + header_length]).unwrap();
        assert_eq!(header, vec![("split_home".to_string(), 9), ("chunk_1".to_string(), 6)], "largest first");
        assert_eq!(&bytes[4 + header_length..], b"home pageshared");
    }

    #[test]
    fn the_loader_fetches_through_the_bundle_and_the_page_asks_for_it() {
        let (pkg, mut manifest) = pkg_with_chunks();
        let mut loader = loader();
        let names = bundle_pages(pkg.path(), &mut manifest, &mut loader, 3).unwrap();

        assert_eq!(loader.matches("__srFetch(new URL(\"./").count(), 3, "{loader}");
        assert!(!loader.contains(&format!("export const __wasm_split_load_{KEY} = wrapAsyncCb")));
        assert!(loader.contains(&format!("const __sr_unbundled_{KEY} = wrapAsyncCb")));
        assert!(loader.contains(&format!(
            "export const __wasm_split_load_{KEY} = __srPage(\"./{}\", __sr_unbundled_{KEY});",
            names[0]
        )));
        assert!(loader.contains("export const __wasm_split_load_deferred_forms = wrapAsyncCb"));
    }

    #[test]
    fn a_loader_that_fetches_another_number_of_files_is_refused() {
        let (pkg, mut manifest) = pkg_with_chunks();
        let mut loader = loader();
        let error = bundle_pages(pkg.path(), &mut manifest, &mut loader, 4).unwrap_err();
        assert!(error.to_string().contains("fetches 3 files, not its 4 chunks"), "{error}");
    }

    #[test]
    fn a_page_without_its_load_function_is_refused() {
        let (pkg, mut manifest) = pkg_with_chunks();
        let mut loader = loader().replace(&format!("export const __wasm_split_load_{KEY}"), "const renamed");
        let error = bundle_pages(pkg.path(), &mut manifest, &mut loader, 3).unwrap_err();
        assert!(error.to_string().contains(KEY), "{error}");
    }
}
