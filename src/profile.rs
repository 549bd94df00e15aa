//! Per-browser profile directories: created private (0700) under the profile root, holding
//! Chrome's user data and its TMPDIR, stamped with the owning process so that a later process
//! can tell a stale directory from a live one, and removed whole on close.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::process;

/// Every directory chromeguard creates under a profile root starts with this.
pub const PREFIX: &str = "chromeguard-";
const OWNER_FILE: &str = "owner";
/// Records the short TMPDIR link (see `short_tmp_link`), so whoever removes the profile
/// removes the link too.
const LINK_FILE: &str = "tmp-link";
/// Chrome binds Unix sockets at `$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket` (43
/// bytes after TMPDIR) and a socket path may not exceed 107 bytes ("Socket path too long").
const MAX_TMPDIR_LEN: usize = 60;

/// One browser's private directory. `user_data_dir` is inside it unless the caller supplied a
/// persistent profile, which is then never removed.
#[derive(Debug)]
pub struct ProfileDir {
    root: PathBuf,
    user_data_dir: PathBuf,
    chrome_tmp_dir: PathBuf,
    persistent: bool,
}

impl ProfileDir {
    /// Creates a new private directory under `profile_root` for one browser.
    pub fn create(profile_root: &Path, persistent_user_data: Option<&Path>) -> io::Result<Self> {
        ensure_private_root(profile_root)?;
        let root = tempfile::Builder::new()
            .prefix(PREFIX)
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(profile_root)?
            .keep();
        let made = (|| {
            fs::write(root.join(OWNER_FILE), Owner::current().encode())?;
            let tmp = root.join("tmp");
            fs::DirBuilder::new().mode(0o700).create(&tmp)?;
            let chrome_tmp_dir = if tmp.as_os_str().len() > MAX_TMPDIR_LEN {
                short_tmp_link(&root, &tmp)?
            } else {
                tmp
            };
            let user_data_dir = match persistent_user_data {
                Some(dir) => {
                    fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(dir)?;
                    dir.to_path_buf()
                }
                None => {
                    let data = root.join("profile");
                    fs::DirBuilder::new().mode(0o700).create(&data)?;
                    data
                }
            };
            Ok((user_data_dir, chrome_tmp_dir))
        })();
        match made {
            Ok((user_data_dir, chrome_tmp_dir)) => Ok(Self {
                root,
                user_data_dir,
                chrome_tmp_dir,
                persistent: persistent_user_data.is_some(),
            }),
            Err(err) => {
                let _ = remove_tree(&root);
                Err(err)
            }
        }
    }

    /// The browser's private directory (removed on close).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What Chrome gets as `--user-data-dir`.
    pub fn user_data_dir(&self) -> &Path {
        &self.user_data_dir
    }

    /// Chrome's TMPDIR, so its `org.chromium.Chromium.*` socket dirs are removed with the
    /// profile: the profile's `tmp`, or a short link to it when that path is too long.
    pub fn tmp_dir(&self) -> &Path {
        &self.chrome_tmp_dir
    }

    pub fn is_persistent(&self) -> bool {
        self.persistent
    }

    /// Removes the private directory (never a persistent user data dir).
    pub fn remove(self) -> io::Result<()> {
        remove_tree(&self.root)
    }
}

/// A short symlink in the system temp dir pointing at `tmp`, so socket paths fit.
fn short_tmp_link(root: &Path, tmp: &Path) -> io::Result<PathBuf> {
    let base = Path::new("/tmp");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    loop {
        let name: String = (0..10).map(|_| fastrand::alphanumeric()).collect();
        let link = base.join(format!("cg-{name}"));
        match std::os::unix::fs::symlink(tmp, &link) {
            Ok(()) => {
                fs::write(root.join(LINK_FILE), link.as_os_str().as_encoded_bytes())?;
                return Ok(link);
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Removes a profile directory and its TMPDIR link, if it has one.
fn remove_tree(root: &Path) -> io::Result<()> {
    if let Ok(recorded) = fs::read(root.join(LINK_FILE)) {
        let link = PathBuf::from(std::ffi::OsStr::from_bytes(&recorded));
        // Only a link that still points into this profile is ours to remove.
        if fs::read_link(&link).is_ok_and(|target| target.starts_with(root)) {
            let _ = fs::remove_file(&link);
        }
    }
    match fs::remove_dir_all(root) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

fn ensure_private_root(profile_root: &Path) -> io::Result<()> {
    match fs::DirBuilder::new()
        .recursive(false)
        .mode(0o700)
        .create(profile_root)
    {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(profile_root),
        Err(err) => Err(err),
    }
}

/// Who created a profile directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub start_time: Option<u64>,
    pub hostname: String,
}

impl Owner {
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start_time: process::start_time(pid),
            hostname: process::hostname(),
        }
    }

    fn encode(&self) -> String {
        format!(
            "{} {} {}\n",
            self.pid,
            self.start_time.unwrap_or(0),
            self.hostname
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split_whitespace();
        let pid = parts.next()?.parse().ok()?;
        let start: u64 = parts.next()?.parse().ok()?;
        Some(Self {
            pid,
            start_time: (start != 0).then_some(start),
            hostname: parts.next().unwrap_or_default().to_owned(),
        })
    }

    fn is_alive_here(&self, hostname: &str) -> bool {
        self.hostname == hostname && process::is_alive(self.pid, self.start_time)
    }
}

/// Directories under `profile_root` whose owner is gone, and who still uses them.
#[derive(Debug)]
pub struct StaleProfile {
    pub dir: PathBuf,
    pub users: Vec<u32>,
}

/// Lists profile directories under `profile_root` whose owning process is dead. A directory
/// stamped by another host (a shared volume, a previous container) is stale only when no
/// process here uses it.
pub fn find_stale(profile_root: &Path) -> Vec<StaleProfile> {
    let Ok(entries) = fs::read_dir(profile_root) else {
        return Vec::new();
    };
    let host = process::hostname();
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let dir = e.path();
            let owner = fs::read_to_string(dir.join(OWNER_FILE))
                .ok()
                .and_then(|t| Owner::decode(&t));
            let users = process::pids_using_profile(&dir);
            // A directory without an owner stamp cannot be attributed, so it is left alone.
            let stale = match &owner {
                Some(owner) if owner.hostname == host => !owner.is_alive_here(&host),
                Some(_) => users.is_empty(),
                None => false,
            };
            stale.then_some(StaleProfile { dir, users })
        })
        .collect()
}

/// Kills every process still using a stale profile (found by command line, never by name)
/// and removes the directories. Returns how many were removed.
pub fn remove_stale(profile_root: &Path) -> usize {
    let mut removed = 0;
    for stale in find_stale(profile_root) {
        for pid in &stale.users {
            log::info!(
                "killing pid {pid}, still using stale profile {}",
                stale.dir.display()
            );
            process::kill_pid(*pid, libc::SIGKILL);
        }
        match remove_tree(&stale.dir) {
            Ok(()) => {
                removed += 1;
                log::info!("removed stale profile {}", stale.dir.display());
            }
            Err(err) => log::warn!(
                "could not remove stale profile {}: {err}",
                stale.dir.display()
            ),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_is_private_and_removed_whole() {
        let root = tempfile::tempdir().unwrap();
        let profile = ProfileDir::create(&root.path().join("nested/root"), None).unwrap();
        let mode = fs::metadata(profile.root()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let root_mode = fs::metadata(root.path().join("nested/root"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(root_mode, 0o700);
        assert!(profile.user_data_dir().starts_with(profile.root()));
        assert!(profile.tmp_dir().is_dir());
        fs::write(profile.tmp_dir().join("socket"), b"x").unwrap();
        let dir = profile.root().to_path_buf();
        profile.remove().unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn long_roots_get_a_short_tmpdir_link_removed_with_the_profile() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a".repeat(40)).join("b".repeat(20));
        let profile = ProfileDir::create(&deep, None).unwrap();
        let link = profile.tmp_dir().to_path_buf();
        assert!(link.as_os_str().len() <= MAX_TMPDIR_LEN);
        assert_eq!(fs::read_link(&link).unwrap(), profile.root().join("tmp"));
        profile.remove().unwrap();
        assert!(fs::symlink_metadata(&link).is_err());

        let stale = ProfileDir::create(&deep, None).unwrap();
        let link = stale.tmp_dir().to_path_buf();
        let gone = Owner {
            pid: u32::MAX - 7,
            start_time: Some(1),
            hostname: process::hostname(),
        };
        fs::write(stale.root().join(OWNER_FILE), gone.encode()).unwrap();
        assert_eq!(remove_stale(&deep), 1);
        assert!(fs::symlink_metadata(&link).is_err());
    }

    #[test]
    fn persistent_user_data_survives_removal() {
        let root = tempfile::tempdir().unwrap();
        let keep = root.path().join("keep");
        let profile = ProfileDir::create(&root.path().join("r"), Some(&keep)).unwrap();
        assert_eq!(profile.user_data_dir(), keep);
        assert!(profile.is_persistent());
        profile.remove().unwrap();
        assert!(keep.is_dir());
    }

    #[test]
    fn live_profiles_are_not_stale_and_dead_ones_are() {
        let root = tempfile::tempdir().unwrap();
        let live = ProfileDir::create(root.path(), None).unwrap();
        let dead = ProfileDir::create(root.path(), None).unwrap();
        let gone = Owner {
            pid: u32::MAX - 7,
            start_time: Some(1),
            hostname: process::hostname(),
        };
        fs::write(dead.root().join(OWNER_FILE), gone.encode()).unwrap();
        let stale = find_stale(root.path());
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].dir, dead.root());
        assert_eq!(remove_stale(root.path()), 1);
        assert!(live.root().exists());
        assert!(!dead.root().exists());
        live.remove().unwrap();
    }

    #[test]
    fn foreign_host_profiles_are_stale_when_unused() {
        let root = tempfile::tempdir().unwrap();
        let other = ProfileDir::create(root.path(), None).unwrap();
        let foreign = Owner {
            pid: std::process::id(),
            start_time: process::start_time(std::process::id()),
            hostname: "another-container".into(),
        };
        fs::write(other.root().join(OWNER_FILE), foreign.encode()).unwrap();
        assert_eq!(find_stale(root.path()).len(), 1);
    }

    #[test]
    fn unattributed_directories_are_left_alone() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join(format!("{PREFIX}not-ours"))).unwrap();
        assert!(find_stale(root.path()).is_empty());
    }

    #[test]
    fn owner_stamp_round_trips() {
        let owner = Owner::current();
        assert_eq!(Owner::decode(&owner.encode()), Some(owner));
        assert_eq!(Owner::decode("garbage"), None);
    }
}
