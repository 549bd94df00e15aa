//! Chrome's `SingletonLock` in a persistent user data dir: a symlink to `hostname-pid` that
//! Chrome leaves behind when it is killed, and that a new container (new hostname) reads as
//! "in use on another computer". Decides whether a lock is live or stale, and clears stale ones.

use std::fs;
use std::io;
use std::path::Path;

use crate::process;

const LOCK_FILES: [&str; 3] = ["SingletonLock", "SingletonSocket", "SingletonCookie"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    Free,
    /// A live process holds the profile.
    Held {
        pid: u32,
        hostname: String,
    },
    /// A lock whose holder is gone.
    Stale {
        pid: u32,
        hostname: String,
    },
}

/// Parses the target of a `SingletonLock` symlink: `hostname-pid` (hostnames may contain '-').
fn parse_target(target: &str) -> Option<(String, u32)> {
    let (host, pid) = target.rsplit_once('-')?;
    Some((host.to_owned(), pid.parse().ok()?))
}

/// The lock state of `user_data_dir`, judged from this host.
pub fn inspect(user_data_dir: &Path) -> LockState {
    let users = process::pids_using_profile(user_data_dir);
    let Ok(target) = fs::read_link(user_data_dir.join("SingletonLock")) else {
        // The headless shell takes no SingletonLock: a process using the dir is the holder.
        return match users.first() {
            Some(pid) => LockState::Held {
                pid: *pid,
                hostname: process::hostname(),
            },
            None => LockState::Free,
        };
    };
    let Some((hostname, pid)) = parse_target(&target.to_string_lossy()) else {
        return match users.first() {
            Some(pid) => LockState::Held {
                pid: *pid,
                hostname: process::hostname(),
            },
            None => LockState::Stale {
                pid: 0,
                hostname: String::new(),
            },
        };
    };
    judge(hostname, pid, &process::hostname(), &users)
}

/// A lock is held when a process on this host uses the dir: the recorded pid itself, or any
/// other process here (then named as the holder, since it is the one to stop).
fn judge(hostname: String, pid: u32, this_host: &str, users: &[u32]) -> LockState {
    let held = hostname == this_host && users.contains(&pid);
    match (held, users.first()) {
        (true, _) => LockState::Held { pid, hostname },
        (false, Some(other)) => LockState::Held {
            pid: *other,
            hostname: this_host.to_owned(),
        },
        (false, None) => LockState::Stale { pid, hostname },
    }
}

/// Removes the singleton files of a stale lock so Chrome starts instead of refusing.
pub fn clear(user_data_dir: &Path) -> io::Result<()> {
    for name in LOCK_FILES {
        match fs::remove_file(user_data_dir.join(name)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hostnames_with_dashes() {
        assert_eq!(
            parse_target("web-7d9f-abc-1234"),
            Some(("web-7d9f-abc".into(), 1234))
        );
        assert_eq!(parse_target("nohyphen"), None);
        assert_eq!(parse_target("host-notapid"), None);
    }

    #[test]
    fn same_host_lock_is_held_only_by_its_live_pid() {
        assert_eq!(
            judge("h".into(), 10, "h", &[10]),
            LockState::Held {
                pid: 10,
                hostname: "h".into()
            }
        );
        assert_eq!(
            judge("h".into(), 10, "h", &[]),
            LockState::Stale {
                pid: 10,
                hostname: "h".into()
            }
        );
    }

    #[test]
    fn foreign_host_lock_is_stale_when_nothing_here_uses_the_dir() {
        assert_eq!(
            judge("old-container".into(), 99, "new", &[]),
            LockState::Stale {
                pid: 99,
                hostname: "old-container".into()
            }
        );
        assert_eq!(
            judge("old-container".into(), 99, "new", &[5]),
            LockState::Held {
                pid: 5,
                hostname: "new".into()
            }
        );
    }

    #[test]
    fn inspect_and_clear_a_dangling_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(inspect(dir.path()), LockState::Free);
        std::os::unix::fs::symlink("elsewhere-4242", dir.path().join("SingletonLock")).unwrap();
        std::os::unix::fs::symlink("x", dir.path().join("SingletonSocket")).unwrap();
        assert!(matches!(
            inspect(dir.path()),
            LockState::Stale { pid: 4242, .. }
        ));
        clear(dir.path()).unwrap();
        assert_eq!(inspect(dir.path()), LockState::Free);
        assert!(fs::symlink_metadata(dir.path().join("SingletonSocket")).is_err());
    }
}
