//! Files made safely: a new file appears whole or not at all, under a name
//! nobody else holds, readable only by whom it should be.
//!
//! - [`Scratch::beside`] creates a file under a fresh name next to a target
//!   path, exclusively (`O_EXCL`: it never opens, truncates or deletes a
//!   file someone else made), with the permissions asked for, and deletes
//!   it when dropped unless it was published.
//! - [`Scratch::publish`] makes it appear at the target path: synced first,
//!   then linked into place without replacing anything there (or renamed
//!   over it, when the caller wants a replacement), then the directory is
//!   synced so the new name survives a crash.
//!
//! A crash at any moment leaves the target path as it was, plus at most a
//! scratch file named `<target>.<pid>-<n>.<purpose>`.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The permissions of a new file: the mode of an existing file, owner-only,
/// or the process default (umask).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// `0666` less the umask, as `File::create` makes.
    Default,
    /// Read and write for the owner only (`0600`).
    Private,
    /// The permission bits of this file (a database a copy is made of).
    #[cfg(unix)]
    Bits(u32),
}

impl Mode {
    /// The mode of the file at `path`, or [`Mode::Private`] if it has none
    /// to give.
    pub(crate) fn of(path: Option<&Path>) -> Mode {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Some(meta) = path.and_then(|p| std::fs::metadata(p).ok()) {
                return Mode::Bits(meta.permissions().mode() & 0o777);
            }
        }
        let _ = path;
        Mode::Private
    }

    fn apply(self, options: &mut OpenOptions) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            match self {
                Mode::Default => {}
                Mode::Private => {
                    options.mode(0o600);
                }
                Mode::Bits(bits) => {
                    options.mode(bits);
                }
            }
        }
        #[cfg(not(unix))]
        let _ = options;
    }
}

/// A file under a fresh name beside its target, deleted when dropped
/// unless published.
pub(crate) struct Scratch {
    path: PathBuf,
    file: Option<File>,
    published: bool,
}

impl Scratch {
    /// Creates a new, empty file next to `target` named
    /// `<target>.<pid>-<n>.<purpose>`, exclusively.
    pub(crate) fn beside(target: &Path, purpose: &str, mode: Mode) -> Result<Scratch, Error> {
        let name = target.file_name().ok_or_else(|| {
            Error::Io(std::io::Error::new(
                ErrorKind::InvalidInput,
                format!("{} is not a file path", target.display()),
            ))
        })?;
        for n in 0u32..1000 {
            let mut fresh = name.to_os_string();
            fresh.push(format!(".{}-{n}.{purpose}", std::process::id()));
            let path = target.with_file_name(fresh);
            let mut options = OpenOptions::new();
            options.read(true).write(true).create_new(true);
            mode.apply(&mut options);
            match options.open(&path) {
                Ok(file) => {
                    return Ok(Scratch {
                        path,
                        file: Some(file),
                        published: false,
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Err(Error::Io(std::io::Error::new(
            ErrorKind::AlreadyExists,
            format!("no free scratch name beside {}", target.display()),
        )))
    }

    /// The scratch file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open file (taken: the scratch keeps only its name).
    pub(crate) fn take_file(&mut self) -> Option<File> {
        self.file.take()
    }

    /// Syncs the file and makes it appear at `target`. With `replace`
    /// false, a file already at `target` is left alone and this fails
    /// with [`ErrorKind::AlreadyExists`]; with `replace` true, it is
    /// replaced atomically. The scratch name is gone afterwards either way,
    /// and durably so: the directory is synced after the last change to it.
    pub(crate) fn publish(mut self, target: &Path, replace: bool) -> Result<(), Error> {
        File::open(&self.path)?.sync_all()?;
        if replace {
            std::fs::rename(&self.path, target)?;
            self.published = true;
        } else {
            match std::fs::hard_link(&self.path, target) {
                // The scratch name goes before the directory is synced,
                // so that one sync makes both changes durable: a power
                // cut cannot leave it as a second name of the file.
                Ok(()) => {
                    self.published = true;
                    std::fs::remove_file(&self.path)?;
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(Error::Io(e)),
                // A file system without hard links: a rename, which cannot
                // refuse to replace, after checking that nothing is there.
                Err(_) if !target.exists() => {
                    std::fs::rename(&self.path, target)?;
                    self.published = true;
                }
                Err(e) => return Err(Error::Io(e)),
            }
        }
        sync_dir_of(target)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.published {
            // Ours: created exclusively above, so never another's file.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Syncs the directory holding `path`, so a name created or renamed there
/// survives a crash.
pub(crate) fn sync_dir_of(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
