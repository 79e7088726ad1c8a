//! Where things are: the repository, the target directory, the site being built.

use std::path::PathBuf;

/// The repository root (this crate lives in `<root>/xtask`).
pub fn repo_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().expect("xtask is one level below the repository root").to_path_buf()
}

/// `CARGO_TARGET_DIR` when set (the scripts set it), else the repository's `target/`, as cargo
/// itself decides.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => std::path::absolute(PathBuf::from(dir)).expect("the current directory exists"),
        None => repo_root().join("target"),
    }
}
