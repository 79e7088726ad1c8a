//! The previous build's hashed files, kept in the new site for one more build.
//!
//! A browser tab opened before a new build still runs the previous main module and chunk loader,
//! and fetches a page's chunks, or the deferred forms', only when they are first shown, by the
//! names it was built with. Without the previous files those names answer 404, and a failed
//! lazy route panics the tab's WASM (Leptos' `#[lazy_route]` has no way to recover). Every file
//! is named by its content hash, so the two builds' files never collide, and a file the new build
//! also has (same content) is simply the new build's.
//!
//! Only the previous build's own files are kept, never the ones it kept from the build before,
//! so a site holds at most two builds' files.

use anyhow::Context;
use std::collections::BTreeSet;
use std::path::Path;

use crate::compress::{with_suffix, SUFFIXES};
use crate::hashing::IMMUTABLE_FILE;

/// The files a site kept from the build before it (URL paths, one per line), so that the next
/// build does not keep them again.
pub const KEPT_FILE: &str = "kept-from-previous-build.txt";

/// Copies into `staging` the hashed files of the site at `previous` that `staging` lacks, with
/// their brotli and gzip copies, and lists them in `staging`'s immutable files (so the server
/// sends them as such) and in its `KEPT_FILE`. Returns how many files were kept.
pub fn keep(previous: &Path, staging: &Path) -> anyhow::Result<usize> {
    let Ok(listed) = std::fs::read_to_string(previous.join(IMMUTABLE_FILE)) else {
        return Ok(0); // no previous site, or one built before hashed names
    };
    let already_kept: BTreeSet<String> = std::fs::read_to_string(previous.join(KEPT_FILE))
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default();
    let mut kept = Vec::new();
    for url_path in listed.lines().filter(|line| !already_kept.contains(*line)) {
        let relative = url_path.trim_start_matches('/');
        // The list is this tool's own output; refuse anything that would leave the site.
        if relative.is_empty() || relative.split('/').any(|part| part == ".." || part.is_empty()) {
            anyhow::bail!("{} lists {url_path:?}, not a path inside the site", IMMUTABLE_FILE);
        }
        let (from, to) = (previous.join(relative), staging.join(relative));
        if to.exists() || !from.is_file() {
            continue;
        }
        let copies = SUFFIXES.map(|suffix| (with_suffix(&from, suffix), with_suffix(&to, suffix)));
        for (from, to) in std::iter::once((from, to)).chain(copies) {
            if from.is_file() {
                std::fs::copy(&from, &to).with_context(|| format!("keeping {}", from.display()))?;
            }
        }
        kept.push(url_path.to_string());
    }
    let list: String = kept.iter().map(|path| format!("{path}\n")).collect();
    let immutable = staging.join(IMMUTABLE_FILE);
    let mut all = std::fs::read_to_string(&immutable).context("reading the new immutable list")?;
    all.push_str(&list);
    std::fs::write(&immutable, all).context("writing the immutable list")?;
    std::fs::write(staging.join(KEPT_FILE), list).context("writing the list of kept files")?;
    Ok(kept.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[&str], kept: Option<&[&str]>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        let mut immutable = String::new();
        for file in files {
            for suffix in ["", ".br", ".gz"] {
                std::fs::write(dir.path().join(format!("pkg/{file}{suffix}")), format!("{file}{suffix}"))
                    .unwrap();
            }
            immutable.push_str(&format!("/pkg/{file}\n"));
        }
        std::fs::write(dir.path().join(IMMUTABLE_FILE), immutable).unwrap();
        if let Some(kept) = kept {
            let list: String = kept.iter().map(|file| format!("/pkg/{file}\n")).collect();
            std::fs::write(dir.path().join(KEPT_FILE), list).unwrap();
        }
        dir
    }

    fn lines(path: &Path) -> Vec<String> {
        let mut lines: Vec<String> =
            std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    #[test]
    fn the_previous_builds_own_files_are_kept_with_their_compressed_copies() {
        // The previous build: its own a and shared, and old, which it kept from the one before.
        let previous = site(&["a.1.wasm", "shared.2.wasm", "old.0.wasm"], Some(&["old.0.wasm"]));
        let staging = site(&["b.3.wasm", "shared.2.wasm"], None);
        std::fs::write(staging.path().join("pkg/shared.2.wasm"), "the new build's copy").unwrap();

        assert_eq!(keep(previous.path(), staging.path()).unwrap(), 1);
        for suffix in ["", ".br", ".gz"] {
            let kept = std::fs::read_to_string(staging.path().join(format!("pkg/a.1.wasm{suffix}"))).unwrap();
            assert_eq!(kept, format!("a.1.wasm{suffix}"));
        }
        assert!(!staging.path().join("pkg/old.0.wasm").exists(), "only one build back");
        assert_eq!(
            std::fs::read_to_string(staging.path().join("pkg/shared.2.wasm")).unwrap(),
            "the new build's copy"
        );
        assert_eq!(
            lines(&staging.path().join(IMMUTABLE_FILE)),
            ["/pkg/a.1.wasm", "/pkg/b.3.wasm", "/pkg/shared.2.wasm"]
        );
        assert_eq!(lines(&staging.path().join(KEPT_FILE)), ["/pkg/a.1.wasm"]);

        // The build after: b and shared are kept again, a is not (it was itself kept).
        let next = site(&["c.4.wasm"], None);
        assert_eq!(keep(staging.path(), next.path()).unwrap(), 2);
        assert!(!next.path().join("pkg/a.1.wasm").exists());
        assert_eq!(lines(&next.path().join(KEPT_FILE)), ["/pkg/b.3.wasm", "/pkg/shared.2.wasm"]);
    }

    #[test]
    fn no_previous_site_keeps_nothing() {
        let staging = site(&["b.3.wasm"], None);
        let nothing = tempfile::tempdir().unwrap();
        assert_eq!(keep(&nothing.path().join("site"), staging.path()).unwrap(), 0);
        assert_eq!(lines(&staging.path().join(IMMUTABLE_FILE)), ["/pkg/b.3.wasm"]);
    }

    #[test]
    fn a_listed_path_outside_the_site_is_refused() {
        let previous = site(&[], None);
        std::fs::write(previous.path().join(IMMUTABLE_FILE), "/pkg/../../etc/passwd\n").unwrap();
        let staging = site(&["b.3.wasm"], None);
        let error = keep(previous.path(), staging.path()).unwrap_err().to_string();
        assert!(error.contains("not a path inside the site"), "{error}");
    }
}
