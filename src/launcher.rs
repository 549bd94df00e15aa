//! Launching one browser: find the binary, give it a private profile, start it under the
//! global launch mutex until DevTools answers, and retry transient failures with backoff.
//! Every failed attempt leaves nothing behind: its process group is killed and its profile
//! directory removed before the next attempt or the error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Browser as CdpBrowser;
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::browser::{Browser, Running};
use crate::errors::{Error, LaunchFailure, Result};
use crate::executable::{self, Unusable};
use crate::launch_lock::with_launch_lock;
use crate::options::{chrome_args, validate_extra_args, LaunchOptions};
use crate::profile::{self, ProfileDir};
use crate::singleton_lock::{self, LockState};
use crate::stats::{self, STATS};
use crate::stderr_tail::StderrTail;
use crate::transport::{Connection, Interrupt};
use crate::{process, spawner};

/// Below this, /dev/shm is too small for Chrome's shared memory (Docker gives 64 MB).
const SMALL_SHM_BYTES: u64 = 512 * 1024 * 1024;
/// How long a failed start may take to release its stderr once its group is killed.
const FAILED_START_DRAIN: Duration = Duration::from_secs(2);

/// One failed attempt, before it is turned into the user-facing error.
struct Failed {
    reason: LaunchFailure,
    message: String,
    stderr_tail: String,
}

impl Failed {
    fn new(reason: LaunchFailure, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            stderr_tail: String::new(),
        }
    }

    fn into_error(self, attempts: u32) -> Error {
        Error::Launch {
            reason: self.reason,
            message: self.message,
            attempts,
            stderr_tail: self.stderr_tail,
        }
    }
}

/// Resolves the binary to run, or says why there is none.
pub fn resolve_executable(opts: &LaunchOptions) -> std::result::Result<PathBuf, String> {
    match &opts.executable {
        Some(path) => match executable::check(path) {
            Ok(()) => Ok(executable::resolve_wrapper(path)),
            Err(Unusable::Missing) => Err(format!(
                "Chrome executable {} does not exist; fix executable_path / CHROMEGUARD_CHROME_PATH or install Chromium (apt-get install chromium-headless-shell)",
                path.display()
            )),
            Err(Unusable::NotAFile) => Err(format!(
                "Chrome executable {} is not a file; point executable_path at the binary",
                path.display()
            )),
            Err(Unusable::NotExecutable) => Err(format!(
                "Chrome executable {} is not executable; chmod +x it or point executable_path elsewhere",
                path.display()
            )),
        },
        None => executable::discover(opts.headless).ok_or_else(|| {
            "no Chrome or Chromium found on PATH or in /usr/lib/chromium; install one (apt-get install chromium-headless-shell) or set CHROMEGUARD_CHROME_PATH".to_owned()
        }),
    }
}

fn dev_shm_is_small() -> bool {
    let path = c"/dev/shm";
    // SAFETY: statvfs writes into the zeroed struct we own.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return true;
    }
    (stat.f_blocks as u64).saturating_mul(stat.f_frsize as u64) < SMALL_SHM_BYTES
}

/// Profile roots already swept in this process (keyed by pid: a forked child sweeps again).
static SWEPT: Lazy<Mutex<(u32, HashSet<PathBuf>)>> = Lazy::new(|| Mutex::new((0, HashSet::new())));

fn sweep_once(profile_root: &Path) {
    let me = std::process::id();
    {
        let mut swept = SWEPT.lock();
        if swept.0 != me {
            *swept = (me, HashSet::new());
        }
        if !swept.1.insert(profile_root.to_path_buf()) {
            return;
        }
    }
    let removed = profile::remove_stale(profile_root);
    stats::add(&STATS.stale_profiles_removed, removed as u64);
}

/// Removes stale profile directories under `profile_root` now; returns how many.
pub fn cleanup_stale_profiles(profile_root: &Path) -> usize {
    let removed = profile::remove_stale(profile_root);
    stats::add(&STATS.stale_profiles_removed, removed as u64);
    removed
}

/// Launches a browser, retrying transient failures.
pub fn launch(opts: &LaunchOptions, interrupt: &dyn Interrupt) -> Result<Browser> {
    validate_extra_args(&opts.extra_args)?;
    let executable = resolve_executable(opts).map_err(|message| {
        stats::bump(&STATS.launch_failures);
        Failed::new(LaunchFailure::ExecutableNotFound, message).into_error(1)
    })?;
    sweep_once(&opts.profile_root);
    let small_shm = dev_shm_is_small();
    let mut attempt = 0;
    loop {
        attempt += 1;
        stats::bump(&STATS.launch_attempts);
        let failed = match try_once(opts, &executable, small_shm) {
            Ok(running) => {
                stats::bump(&STATS.launches);
                return Browser::adopt(running);
            }
            Err(failed) => failed,
        };
        log::warn!(
            "launch attempt {attempt} of {} failed ({}): {}",
            executable.display(),
            failed.reason.as_str(),
            failed.message
        );
        if !failed.reason.is_retryable() || attempt > opts.launch_retries {
            stats::bump(&STATS.launch_failures);
            return Err(failed.into_error(attempt));
        }
        stats::bump(&STATS.retries);
        sleep_interruptibly(opts.backoff.jittered(attempt - 1), interrupt)?;
    }
}

fn sleep_interruptibly(pause: Duration, interrupt: &dyn Interrupt) -> Result<()> {
    let deadline = Instant::now() + pause;
    loop {
        interrupt.check()?;
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
    }
}

/// One attempt: a fresh profile, a start under the launch mutex, and full clean-up on failure.
fn try_once(
    opts: &LaunchOptions,
    executable: &Path,
    small_shm: bool,
) -> std::result::Result<Running, Failed> {
    let profile = ProfileDir::create(&opts.profile_root, opts.user_data_dir.as_deref())
        .map_err(|err| {
            Failed::new(
                LaunchFailure::Unknown,
                format!(
                    "cannot create a profile directory under {}: {err}; make profile_root writable or point it elsewhere",
                    opts.profile_root.display()
                ),
            )
        })?;
    let started = with_launch_lock(|| start(opts, executable, &profile, small_shm));
    match started {
        Ok(started) => Ok(Running {
            child: started.child,
            connection: started.connection,
            stderr: started.stderr,
            version: started.version,
            profile,
            executable: executable.to_path_buf(),
        }),
        Err(failed) => {
            if let Err(err) = profile.remove() {
                log::warn!("could not remove profile of a failed launch: {err}");
            } else {
                stats::bump(&STATS.profiles_removed);
            }
            Err(failed)
        }
    }
}

/// A Chrome that answered on its DevTools pipe.
struct Started {
    child: std::process::Child,
    connection: Arc<Connection>,
    stderr: StderrTail,
    version: String,
}

/// The launch critical section: from the profile-lock check to DevTools' first reply.
fn start(
    opts: &LaunchOptions,
    executable: &Path,
    profile: &ProfileDir,
    small_shm: bool,
) -> std::result::Result<Started, Failed> {
    if profile.is_persistent() {
        check_profile_lock(profile.user_data_dir())?;
    }
    let mut command = Command::new(executable);
    command
        .args(chrome_args(opts, profile.user_data_dir(), small_shm))
        .env("TMPDIR", profile.tmp_dir());
    let mut spawned = spawner::spawn(command).map_err(|err| {
        let reason = match err.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                LaunchFailure::ExecutableNotFound
            }
            _ => LaunchFailure::Unknown,
        };
        Failed::new(
            reason,
            format!("cannot start {}: {err}", executable.display()),
        )
    })?;
    let pid = spawned.child.id();
    let stderr = match spawned.child.stderr.take() {
        Some(stream) => StderrTail::capture(stream, pid),
        None => StderrTail::default(),
    };
    let abandon = |mut child: std::process::Child, failed: Failed| -> Failed {
        process::end_group(
            pid as i32,
            &mut child,
            |limit| stderr.wait_ended(limit),
            FAILED_START_DRAIN,
        );
        let stderr_tail = stderr.text();
        let reason = match failed.reason {
            LaunchFailure::Crashed => crate::retry::classify_exit(&stderr_tail),
            other => other,
        };
        let message = match reason {
            LaunchFailure::Sandbox => "Chrome refused to start its sandbox; running as root needs sandbox=False (CHROMEGUARD_SANDBOX=0), or run as a non-root user with user namespaces enabled".to_owned(),
            LaunchFailure::ProfileInUse => "Chrome reports that its profile is in use by another Chrome; use a different user_data_dir or leave it unset for a private profile".to_owned(),
            _ => failed.message,
        };
        Failed {
            reason,
            message,
            stderr_tail,
        }
    };
    let connection =
        match Connection::start(spawned.from_chrome, spawned.to_chrome, &pid.to_string()) {
            Ok(connection) => connection,
            Err(err) => {
                return Err(abandon(
                    spawned.child,
                    Failed::new(
                        LaunchFailure::Unknown,
                        format!("cannot start the CDP reader: {err}"),
                    ),
                ))
            }
        };
    match connection.call_typed(None, CdpBrowser::GetVersion(None), opts.launch_timeout) {
        Ok(version) => Ok(Started {
            child: spawned.child,
            connection,
            stderr,
            version: version.product,
        }),
        Err(Error::Timeout { .. }) => Err(abandon(
            spawned.child,
            Failed::new(
                LaunchFailure::Timeout,
                format!(
                    "Chrome (pid {pid}) did not answer on its DevTools pipe within {:.1} s; raise launch_timeout on a loaded machine",
                    opts.launch_timeout.as_secs_f64()
                ),
            ),
        )),
        Err(err) => Err(abandon(
            spawned.child,
            Failed::new(
                LaunchFailure::Crashed,
                format!("Chrome (pid {pid}) exited during start-up ({err}); see stderr_tail for what it printed"),
            ),
        )),
    }
}

fn check_profile_lock(user_data_dir: &Path) -> std::result::Result<(), Failed> {
    match singleton_lock::inspect(user_data_dir) {
        LockState::Free => Ok(()),
        LockState::Held { pid, hostname } => Err(Failed::new(
            LaunchFailure::ProfileInUse,
            format!(
                "user_data_dir {} is in use by Chrome pid {pid} on {hostname}; close that browser first, or leave user_data_dir unset and use storage_state for shared logins",
                user_data_dir.display()
            ),
        )),
        LockState::Stale { pid, hostname } => {
            log::info!(
                "clearing stale profile lock of {} (pid {pid} on {hostname:?} is gone)",
                user_data_dir.display()
            );
            singleton_lock::clear(user_data_dir).map_err(|err| {
                Failed::new(
                    LaunchFailure::ProfileInUse,
                    format!("cannot clear the stale lock in {}: {err}", user_data_dir.display()),
                )
            })
        }
    }
}
