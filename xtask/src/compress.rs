//! Step 7: a brotli (`.br`) and a gzip (`.gz`) copy next to every file, which the server's
//! `ServeDir` sends as they are to a browser that accepts them: compressing once at build time
//! allows brotli's slowest, smallest setting.

use anyhow::Context;
use flate2::write::GzEncoder;
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How hard to compress: the smallest for release; quick for debug builds, whose WASM is
/// four times larger and only ever crosses loopback.
#[derive(Clone, Copy)]
pub enum Effort {
    Smallest,
    Quick,
}

impl Effort {
    fn brotli_quality(self) -> i32 {
        match self {
            Effort::Smallest => 11,
            Effort::Quick => 5,
        }
    }

    fn gzip_level(self) -> flate2::Compression {
        match self {
            Effort::Smallest => flate2::Compression::best(),
            Effort::Quick => flate2::Compression::fast(),
        }
    }
}

/// Compresses every file under `dir` except those named in `skip`, on all cores.
pub fn precompress_tree(dir: &Path, skip: &[&str], effort: Effort) -> anyhow::Result<()> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.retain(|path| !path.file_name().is_some_and(|name| skip.iter().any(|s| name == *s)));
    // Largest first, so the WASM does not start last.
    files.sort_by_key(|path| std::cmp::Reverse(path.metadata().map(|m| m.len()).unwrap_or(0)));
    files.par_iter().try_for_each(|path| precompress(path, effort))
}

fn precompress(path: &Path, effort: Effort) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::write(with_suffix(path, "br"), brotli(&bytes, effort)?)?;
    std::fs::write(with_suffix(path, "gz"), gzip(&bytes, effort)?)?;
    Ok(())
}

pub fn brotli(bytes: &[u8], effort: Effort) -> anyhow::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: effort.brotli_quality(),
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// The compressed copies' suffixes, as `with_suffix` takes them.
pub const SUFFIXES: [&str; 2] = ["br", "gz"];

pub fn gzip(bytes: &[u8], effort: Effort) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), effort.gzip_level());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// `main.css` -> `main.css.br`: the names `ServeDir` looks for.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_file_but_the_skipped_gets_a_brotli_and_a_gzip_copy_that_decompress_to_it() {
        let dir = std::env::temp_dir().join(format!("xtask-compress-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let text = "strongroom ".repeat(1000);
        std::fs::write(dir.join("pkg/app.js"), &text).unwrap();
        std::fs::write(dir.join("hash.txt"), "js: 00").unwrap();

        precompress_tree(&dir, &["hash.txt"], Effort::Smallest).unwrap();

        let br = std::fs::read(dir.join("pkg/app.js.br")).unwrap();
        let gz = std::fs::read(dir.join("pkg/app.js.gz")).unwrap();
        assert!(br.len() < text.len() / 10 && gz.len() < text.len() / 10);
        let mut unbrotlied = String::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_string(&mut unbrotlied).unwrap();
        let mut ungzipped = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut ungzipped).unwrap();
        assert_eq!(unbrotlied, text);
        assert_eq!(ungzipped, text);
        assert!(!dir.join("hash.txt.br").exists() && !dir.join("hash.txt.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
