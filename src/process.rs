//! What /proc says about processes: liveness with pid-reuse protection, process-group
//! members, command lines; and the kill/reap primitives that act on a group.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// The kernel's start time of `pid` (clock ticks since boot), which tells a live process from a
/// later one that reused its pid.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 22)?.parse().ok()
}

/// Process group of `pid`, and whether it is a zombie.
fn group_and_state(pid: u32) -> Option<(i32, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat_field(&stat, 3)?.chars().next()?;
    let pgrp = stat_field(&stat, 5)?.parse().ok()?;
    Some((pgrp, state))
}

/// Field `n` (1-based, as in proc(5)) of a /proc/PID/stat line. The command name (field 2) may
/// contain spaces and parentheses, so fields after it are counted from its last ')'.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    if n < 3 {
        return None;
    }
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(n - 3)
}

/// Whether the process that had `start` as its start time is still running.
pub fn is_alive(pid: u32, start: Option<u64>) -> bool {
    match (start_time(pid), start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The command line of `pid`, one string per argument.
pub fn cmdline(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Processes whose command line names `dir` in a `--user-data-dir` switch: how a Chrome is tied
/// to a profile without trusting process names.
pub fn pids_using_profile(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id();
    all_pids()
        .into_iter()
        .filter(|pid| *pid != me)
        .filter(|pid| {
            cmdline(*pid).iter().any(|arg| {
                arg.strip_prefix("--user-data-dir=")
                    .is_some_and(|value| Path::new(value).starts_with(&needle))
            })
        })
        .collect()
}

/// Live (non-zombie) members of process group `pgid`.
pub fn group_members(pgid: i32) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|pid| matches!(group_and_state(*pid), Some((g, s)) if g == pgid && s != 'Z'))
        .collect()
}

pub fn kill_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

pub fn kill_pid(pid: u32, signal: i32) {
    // SAFETY: as above, for one process.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

/// Reaps every exited child of ours in group `pgid` without blocking. Chrome's helpers are
/// reparented to us when we are PID 1 of a container, and would otherwise stay zombies.
pub fn reap_group(pgid: i32) {
    loop {
        // SAFETY: waitpid on a process group with WNOHANG; the status pointer may be null.
        let pid = unsafe { libc::waitpid(-pgid, std::ptr::null_mut(), libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
    }
}

/// Ends process group `pgid`, led by `child`: SIGKILL to the group, the leader reaped, then a
/// wait through `all_released` (an event: every member has let go of a pipe they all inherited)
/// rather than polling. Only members that closed that pipe themselves are polled for.
/// Returns whether the group is gone.
pub fn end_group(
    pgid: i32,
    child: &mut std::process::Child,
    all_released: impl FnOnce(Duration) -> bool,
    limit: Duration,
) -> bool {
    kill_group(pgid, libc::SIGKILL);
    let _ = child.wait();
    all_released(limit);
    reap_group(pgid);
    group_members(pgid).is_empty() || kill_group_and_wait(pgid, limit)
}

/// Kills group `pgid` and waits, up to `limit`, until none of its members is left.
/// Returns whether the group is gone.
fn kill_group_and_wait(pgid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(200);
    loop {
        kill_group(pgid, libc::SIGKILL);
        reap_group(pgid);
        if group_members(pgid).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        // SIGKILL is delivered asynchronously; back off briefly while the kernel tears down.
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_odd_command_names() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 7777 0";
        assert_eq!(stat_field(stat, 3), Some("S"));
        assert_eq!(stat_field(stat, 5), Some("42"));
        assert_eq!(stat_field(stat, 22), Some("7777"));
    }

    #[test]
    fn own_process_is_alive_and_start_time_guards_reuse() {
        let me = std::process::id();
        let start = start_time(me);
        assert!(start.is_some());
        assert!(is_alive(me, start));
        assert!(!is_alive(me, start.map(|s| s + 1)));
        assert!(!is_alive(u32::MAX - 1, None));
    }

    #[test]
    fn finds_a_process_by_its_profile_switch() {
        let dir = tempfile::tempdir().unwrap();
        // One process that never forks (a shell would, and its child briefly shows the same
        // command line).
        let mut child = std::process::Command::new("python3")
            .args(["-c", "import time; time.sleep(30)"])
            .arg(format!("--user-data-dir={}/profile", dir.path().display()))
            .spawn()
            .unwrap();
        // Until the child has exec'd, /proc shows the parent's command line.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut found = pids_using_profile(dir.path());
        while found.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            found = pids_using_profile(dir.path());
        }
        assert_eq!(found, vec![child.id()]);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(pids_using_profile(dir.path()).is_empty());
    }
}
