//! File operations under an HPC work directory that never follow a symbolic link.
//!
//! The work directory is shared with the runs (their launch account can write in it), so anything
//! below it may be swapped for a link at any moment. Every step here is relative to an open
//! directory handle (`openat` and friends) with `O_NOFOLLOW`: a link where a directory or a store
//! should be is an error, never a way out. Only the configured work root itself is opened by path.

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Component, Path};

/// Who should own what Strongroom creates for a run (the launch account), when it is not us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

const DIR_FLAGS: OFlags =
    OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

fn is_link_or_not_dir(e: &Errno) -> bool {
    *e == Errno::LOOP || *e == Errno::NOTDIR
}

/// A link or a non-directory where a directory should be.
pub fn not_a_directory() -> io::Error {
    io::Error::new(io::ErrorKind::NotADirectory, "not a real directory (a link or a file)")
}

fn errno(e: Errno) -> io::Error {
    if is_link_or_not_dir(&e) {
        not_a_directory()
    } else {
        e.into()
    }
}

/// Opens `work_dir`, which lies lexically under `root`: the root by path, then each component
/// below it without following links, creating missing ones (mode 0755 less umask) when `create`.
pub fn open_work_dir(root: &Path, work_dir: &Path, create: bool) -> io::Result<OwnedFd> {
    if create {
        // The root is the administrator's (or Strongroom's own `<data dir>/work`): made if absent.
        std::fs::create_dir_all(root)?;
    }
    let mut dir =
        rfs::openat(CWD, root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let below = work_dir.strip_prefix(root).map_err(|_| io::Error::other("outside the work roots"))?;
    for part in below.components() {
        let Component::Normal(name) = part else {
            return Err(io::Error::other("the work directory is not a plain path"));
        };
        dir = match rfs::openat(&dir, name, DIR_FLAGS, Mode::empty()) {
            Ok(next) => next,
            Err(Errno::NOENT) if create => {
                match rfs::mkdirat(&dir, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(errno(e)),
                }
                rfs::openat(&dir, name, DIR_FLAGS, Mode::empty()).map_err(errno)?
            }
            Err(e) => return Err(errno(e)),
        };
    }
    Ok(dir)
}

/// Opens the directory `name` in `parent` without following a link; `None` if it is absent.
pub fn open_dir(parent: impl AsFd, name: &str) -> io::Result<Option<OwnedFd>> {
    match rfs::openat(parent, name, DIR_FLAGS, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(errno(e)),
    }
}

/// Creates (if needed) and opens the private directory `name` in `parent`: a real directory of
/// mode 0700, owned by `owner` when one is given. A link in its place is refused.
pub fn private_dir(parent: impl AsFd, name: &str, owner: Option<Owner>) -> io::Result<OwnedFd> {
    let parent = parent.as_fd();
    match rfs::mkdirat(parent, name, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(errno(e)),
    }
    let dir = rfs::openat(parent, name, DIR_FLAGS, Mode::empty()).map_err(errno)?;
    let stat = rfs::fstat(&dir)?;
    if let Some(owner) = owner {
        if stat.st_uid != owner.uid || stat.st_gid != owner.gid {
            rfs::fchown(&dir, Some(rfs::Uid::from_raw(owner.uid)), Some(rfs::Gid::from_raw(owner.gid)))?;
        }
    }
    // The mode is set on the open handle, not by name: umask made it 0755 at creation.
    if stat.st_mode & 0o7777 != 0o700 {
        rfs::fchmod(&dir, Mode::from_bits_truncate(0o700))?;
    }
    Ok(dir)
}

/// Creates the new file `name` in `dir` with mode 0600 (owned by `owner`), refusing to open
/// anything that already exists, a link included.
pub fn create_private_file(dir: impl AsFd, name: &str, owner: Option<Owner>) -> io::Result<std::fs::File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rfs::openat(dir, name, flags, Mode::from_bits_truncate(0o600))?;
    chown_and_restrict(&fd, owner)?;
    Ok(std::fs::File::from(fd))
}

/// Opens `name` in `dir` for appending, creating it 0600 (owned by `owner`) if absent; a link
/// or anything but a regular file is refused.
pub fn append_private_file(dir: impl AsFd, name: &str, owner: Option<Owner>) -> io::Result<std::fs::File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rfs::openat(dir, name, flags, Mode::from_bits_truncate(0o600)).map_err(errno)?;
    let stat = rfs::fstat(&fd)?;
    if rfs::FileType::from_raw_mode(stat.st_mode) != rfs::FileType::RegularFile {
        return Err(io::Error::other("not a regular file"));
    }
    chown_and_restrict(&fd, owner)?;
    Ok(std::fs::File::from(fd))
}

fn chown_and_restrict(fd: &OwnedFd, owner: Option<Owner>) -> io::Result<()> {
    let stat = rfs::fstat(fd)?;
    if let Some(owner) = owner {
        if stat.st_uid != owner.uid || stat.st_gid != owner.gid {
            rfs::fchown(fd, Some(rfs::Uid::from_raw(owner.uid)), Some(rfs::Gid::from_raw(owner.gid)))?;
        }
    }
    if stat.st_mode & 0o7777 != 0o600 {
        rfs::fchmod(fd, Mode::from_bits_truncate(0o600))?;
    }
    Ok(())
}

/// A regular file opened for reading without following a link, with its mode bits.
pub struct OpenedFile {
    pub file: std::fs::File,
    pub mode: u32,
    pub is_regular: bool,
}

/// Opens `name` in `dir` for reading without following a link; `None` if it is absent.
pub fn open_file(dir: impl AsFd, name: &str) -> io::Result<Option<OpenedFile>> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = match rfs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => return Err(io::Error::other("a link, not a file")),
        Err(e) => return Err(e.into()),
    };
    let stat = rfs::fstat(&fd)?;
    let is_regular = rfs::FileType::from_raw_mode(stat.st_mode) == rfs::FileType::RegularFile;
    Ok(Some(OpenedFile { file: std::fs::File::from(fd), mode: stat.st_mode & 0o7777, is_regular }))
}

/// Renames `from` over `to`, both in `dir` (links are replaced, never followed).
pub fn rename_in(dir: impl AsFd, from: &str, to: &str) -> io::Result<()> {
    let dir = dir.as_fd();
    rfs::renameat(dir, from, dir, to).map_err(Into::into)
}

/// Removes the file (or link) `name` in `dir`; absent is fine.
pub fn remove_file(dir: impl AsFd, name: &str) -> io::Result<()> {
    match rfs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Removes the empty directory `name` in `dir`; absent or not empty is fine (`false`), a link in
/// its place is left alone.
pub fn remove_empty_dir(dir: impl AsFd, name: &str) -> io::Result<bool> {
    match rfs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT | Errno::NOTEMPTY | Errno::EXIST | Errno::NOTDIR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// What a directory entry is, without following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Other,
}

/// The names in `dir` (without `.` and `..`) and what each is, never following a link.
pub fn list(dir: impl AsFd) -> io::Result<Vec<(String, Kind)>> {
    let dir = dir.as_fd();
    let mut found = Vec::new();
    for entry in rfs::Dir::read_from(dir)? {
        let entry = entry?;
        let raw = entry.file_name().to_bytes();
        if raw == b"." || raw == b".." {
            continue;
        }
        // Names Strongroom did not write may not be UTF-8: they are simply not ours.
        let Ok(name) = OsString::from_vec(raw.to_vec()).into_string() else { continue };
        let kind = match rfs::statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => match rfs::FileType::from_raw_mode(stat.st_mode) {
                rfs::FileType::Directory => Kind::Dir,
                rfs::FileType::RegularFile => Kind::File,
                _ => Kind::Other,
            },
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        found.push((name, kind));
    }
    Ok(found)
}
