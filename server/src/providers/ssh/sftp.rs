//! File operations over SFTP, with the checks that make a directory or file ours: private
//! directories created 0700 and verified (a directory, not a link, owned by the account, mode
//! 0700), files created `CREATE|EXCLUDE` with their mode and renamed into place, reads that
//! refuse links and shared files. Paths are absolute, built by `layout` from checked names.

use super::errors::{sftp, transport, SshError};
use super::host_key::HostKeyCheck;
use super::layout::temp_name;
use russh::client::Handle;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::client::RawSftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use zeroize::Zeroizing;

/// Bytes per write or read request: below every server's packet limit.
const CHUNK: usize = 32 * 1024;
/// Seconds one SFTP request may take.
const REQUEST_TIMEOUT_SECS: u64 = 60;
const POSIX_RENAME: &str = "posix-rename@openssh.com";
const TYPE_MASK: u32 = 0o170_000;
const DIRECTORY: u32 = 0o040_000;
const REGULAR: u32 = 0o100_000;

pub struct Sftp {
    raw: RawSftpSession,
    /// Whether the server renames over an existing file atomically (OpenSSH's extension).
    posix_rename: bool,
}

/// What `lstat` says about a path, as far as our checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub uid: Option<u32>,
}

impl Entry {
    fn from(attrs: &FileAttributes) -> Entry {
        Entry { mode: attrs.permissions.unwrap_or(0), uid: attrs.uid }
    }

    pub fn is_dir(self) -> bool {
        self.mode & TYPE_MASK == DIRECTORY
    }

    pub fn is_regular(self) -> bool {
        self.mode & TYPE_MASK == REGULAR
    }

    pub fn permissions(self) -> u32 {
        self.mode & 0o7777
    }
}

fn is_status(error: &SftpError, code: StatusCode) -> bool {
    matches!(error, SftpError::Status(status) if status.status_code == code)
}

impl Sftp {
    pub async fn open(handle: &Handle<HostKeyCheck>) -> Result<Sftp, SshError> {
        let channel = handle.channel_open_session().await.map_err(|e| transport("open SFTP", &e))?;
        channel.request_subsystem(true, "sftp").await.map_err(|e| transport("start SFTP", &e))?;
        let raw = RawSftpSession::new(channel.into_stream());
        raw.set_timeout(REQUEST_TIMEOUT_SECS);
        let version = raw.init().await.map_err(|e| sftp("start", "the SFTP session", e))?;
        let posix_rename = version.extensions.get(POSIX_RENAME).is_some_and(|v| v == "1");
        Ok(Sftp { raw, posix_rename })
    }

    /// `lstat`: `None` when nothing is there. Links are reported as links, never followed.
    pub async fn lstat(&self, path: &str) -> Result<Option<Entry>, SshError> {
        match self.raw.lstat(path).await {
            Ok(attrs) => Ok(Some(Entry::from(&attrs.attrs))),
            Err(e) if is_status(&e, StatusCode::NoSuchFile) => Ok(None),
            Err(e) => Err(sftp("inspect", path, e)),
        }
    }

    /// Creates `path` as a 0700 directory, or accepts the one there if it is a real directory
    /// owned by `uid` with mode 0700. Anything else is refused: another account could have
    /// planted it to read what we would write inside.
    pub async fn private_dir(&self, path: &str, uid: u32) -> Result<(), SshError> {
        let attrs = FileAttributes { permissions: Some(0o700), ..FileAttributes::empty() };
        match self.raw.mkdir(path, attrs).await {
            Ok(_) => {}
            // OpenSSH answers a plain failure when the directory exists; the check below decides.
            Err(e) if is_status(&e, StatusCode::Failure) => {}
            Err(e) => return Err(sftp("create", path, e)),
        }
        let entry = self.lstat(path).await?.ok_or_else(|| {
            SshError::Rejected(format!("{path} vanished right after it was created; try again"))
        })?;
        check_private_dir(path, entry, uid)
    }

    /// Writes `bytes` as `dir/name` with `mode`: a new file created with that mode
    /// (`CREATE|EXCLUDE`, so never an existing file or link), checked, then renamed over the
    /// old one. A reader sees the old file or the new one, never a partial one.
    pub async fn write_private(
        &self,
        dir: &str,
        name: &str,
        bytes: &[u8],
        mode: u32,
    ) -> Result<(), SshError> {
        let temp = format!("{dir}/{}", temp_name(name));
        let target = format!("{dir}/{name}");
        let written = self.write_new(&temp, bytes, mode).await;
        let renamed = match written {
            Ok(()) => self.rename_over(&temp, &target).await,
            Err(e) => Err(e),
        };
        if renamed.is_err() {
            let _ = self.remove_file(&temp).await;
        }
        renamed
    }

    async fn write_new(&self, path: &str, bytes: &[u8], mode: u32) -> Result<(), SshError> {
        let flags = OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::WRITE;
        let attrs = FileAttributes { permissions: Some(mode), ..FileAttributes::empty() };
        let handle = self.raw.open(path, flags, attrs).await.map_err(|e| sftp("create", path, e))?.handle;
        let result = async {
            let created = self.raw.fstat(handle.as_str()).await.map_err(|e| sftp("inspect", path, e))?;
            let created = Entry::from(&created.attrs);
            if !created.is_regular() || created.permissions() != mode {
                return Err(SshError::Rejected(format!(
                    "the cluster created {path} with mode {:04o} instead of {mode:04o}; its SFTP server \
                     forces file modes (sftp-server -m): remove that option",
                    created.permissions()
                )));
            }
            for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
                let offset = (index * CHUNK) as u64;
                self.raw
                    .write(handle.as_str(), offset, chunk.to_vec())
                    .await
                    .map_err(|e| sftp("write", path, e))?;
            }
            Ok(())
        }
        .await;
        let closed = self.raw.close(handle).await.map_err(|e| sftp("close", path, e));
        result.and(closed.map(|_| ()))
    }

    async fn rename_over(&self, from: &str, to: &str) -> Result<(), SshError> {
        if self.posix_rename {
            let mut data = Vec::with_capacity(8 + from.len() + to.len());
            for part in [from, to] {
                data.extend_from_slice(&(part.len() as u32).to_be_bytes());
                data.extend_from_slice(part.as_bytes());
            }
            return match self.raw.extended(POSIX_RENAME, data).await {
                Ok(Packet::Status(status)) if status.status_code == StatusCode::Ok => Ok(()),
                Ok(Packet::Status(status)) => Err(sftp("replace", to, SftpError::Status(status))),
                Ok(_) => Err(sftp("replace", to, SftpError::UnexpectedPacket)),
                Err(e) => Err(sftp("replace", to, e)),
            };
        }
        // SFTP v3's rename refuses an existing target: remove it first (a reader may then
        // briefly find no file, which it treats as an empty store).
        self.remove_file(to).await?;
        self.raw.rename(from, to).await.map(|_| ()).map_err(|e| sftp("replace", to, e))
    }

    /// Reads a private regular file (no link, no group or other bits), at most `limit` bytes.
    /// `None` when it is not there.
    pub async fn read_private(
        &self,
        path: &str,
        limit: usize,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, SshError> {
        let Some(entry) = self.lstat(path).await? else { return Ok(None) };
        if !entry.is_regular() || entry.permissions() & 0o077 != 0 {
            return Err(SshError::Rejected(format!(
                "{path} is not a private regular file (mode 0600); it was left alone"
            )));
        }
        let handle = match self.raw.open(path, OpenFlags::READ, FileAttributes::empty()).await {
            Ok(handle) => handle.handle,
            Err(e) if is_status(&e, StatusCode::NoSuchFile) => return Ok(None),
            Err(e) => return Err(sftp("open", path, e)),
        };
        let mut bytes = Zeroizing::new(Vec::new());
        let result = loop {
            match self.raw.read(handle.as_str(), bytes.len() as u64, CHUNK as u32).await {
                Ok(data) if data.data.is_empty() => break Ok(()),
                Ok(data) => {
                    bytes.extend_from_slice(&Zeroizing::new(data.data));
                    if bytes.len() > limit {
                        break Err(SshError::Rejected(format!("{path} is larger than {limit} bytes")));
                    }
                }
                Err(e) if is_status(&e, StatusCode::Eof) => break Ok(()),
                Err(e) => break Err(sftp("read", path, e)),
            }
        };
        let _ = self.raw.close(handle).await;
        result.map(|()| Some(bytes))
    }

    /// Removes a file or link (never what a link points to). Gone already is removed.
    pub async fn remove_file(&self, path: &str) -> Result<(), SshError> {
        match self.raw.remove(path).await {
            Ok(_) => Ok(()),
            Err(e) if is_status(&e, StatusCode::NoSuchFile) => Ok(()),
            Err(e) => Err(sftp("remove", path, e)),
        }
    }

    /// Removes an empty directory. `false` when it is not empty (something else stays in it).
    pub async fn remove_empty_dir(&self, path: &str) -> Result<bool, SshError> {
        match self.raw.rmdir(path).await {
            Ok(_) => Ok(true),
            Err(e) if is_status(&e, StatusCode::NoSuchFile) => Ok(true),
            Err(e) if is_status(&e, StatusCode::Failure) => Ok(false),
            Err(e) => Err(sftp("remove", path, e)),
        }
    }

    /// The entries of a directory with what `lstat` says of each; `None` when it is not there.
    pub async fn list(&self, dir: &str) -> Result<Option<Vec<(String, Entry)>>, SshError> {
        let handle = match self.raw.opendir(dir).await {
            Ok(handle) => handle.handle,
            Err(e) if is_status(&e, StatusCode::NoSuchFile) => return Ok(None),
            Err(e) => return Err(sftp("list", dir, e)),
        };
        let mut entries = Vec::new();
        let result = loop {
            match self.raw.readdir(handle.as_str()).await {
                Ok(name) => entries.extend(
                    name.files
                        .into_iter()
                        .filter(|f| f.filename != "." && f.filename != "..")
                        .map(|f| (f.filename, Entry::from(&f.attrs))),
                ),
                Err(e) if is_status(&e, StatusCode::Eof) => break Ok(()),
                Err(e) => break Err(sftp("list", dir, e)),
            }
            if entries.len() > 100_000 {
                break Err(SshError::Rejected(format!("{dir} holds more entries than Strongroom reads")));
            }
        };
        let _ = self.raw.close(handle).await;
        result.map(|()| Some(entries))
    }
}

/// A directory of ours: real, owned by the account, mode 0700.
pub fn check_private_dir(path: &str, entry: Entry, uid: u32) -> Result<(), SshError> {
    if !entry.is_dir() {
        return Err(SshError::Rejected(format!(
            "{path} exists but is not a directory (a link or a file); Strongroom will not use it: \
             the account should remove it"
        )));
    }
    if entry.uid != Some(uid) {
        let owner = entry.uid.map_or("unknown".into(), |u| format!("uid {u}"));
        return Err(SshError::Rejected(format!(
            "{path} exists but is not yours (it belongs to {owner}, the account is uid {uid}); \
             Strongroom will not use it: ask whoever made it to remove it"
        )));
    }
    if entry.permissions() != 0o700 {
        return Err(SshError::Rejected(format!(
            "{path} exists but is not private (mode {:04o}, not 0700); Strongroom will not use it: \
             remove it and let Strongroom create it again",
            entry.permissions()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_private_directory_of_the_account_is_accepted() {
        let ours = Entry { mode: 0o040_700, uid: Some(1001) };
        assert!(check_private_dir("/s/d", ours, 1001).is_ok());
        let message = |entry, uid| check_private_dir("/s/d", entry, uid).unwrap_err().message();
        assert!(message(ours, 1002).contains("is not yours (it belongs to uid 1001"));
        assert!(message(Entry { mode: 0o040_755, uid: Some(1001) }, 1001).contains("not private (mode 0755"));
        assert!(message(Entry { mode: 0o120_777, uid: Some(1001) }, 1001).contains("not a directory"));
        assert!(message(Entry { mode: 0o100_700, uid: Some(1001) }, 1001).contains("not a directory"));
        assert!(message(Entry { mode: 0o041_700, uid: Some(1001) }, 1001).contains("not private"));
    }
}
