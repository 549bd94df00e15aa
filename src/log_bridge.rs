//! Rust `log` records on their way to Python `logging`. A Rust thread never takes the GIL to log
//! (a reader thread logging while a Python thread holds the GIL waiting on it would deadlock, as
//! with pyo3-log): records are queued here, a byte on a wake-up pipe tells the Python side, and a
//! Python thread moves them into `logging` with the GIL it already holds.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};
use once_cell::sync::OnceCell;
use parking_lot::Mutex;

/// Beyond this many undelivered records the oldest are dropped (and counted).
const QUEUE_LIMIT: usize = 10_000;

/// One record: Python level number, logger name, message.
pub type Entry = (u8, String, String);

struct Bridge {
    queue: Mutex<VecDeque<Entry>>,
    wake: Mutex<Option<File>>,
    /// Level threshold as a `LevelFilter` discriminant, set from the Python logger's level.
    max: AtomicUsize,
    dropped: AtomicU64,
}

static BRIDGE: OnceCell<Bridge> = OnceCell::new();

fn python_level(level: Level) -> u8 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug | Level::Trace => 10,
    }
}

/// The `LevelFilter` for a Python level number.
fn filter_for(python: u32) -> LevelFilter {
    match python {
        0..=9 => LevelFilter::Trace,
        10..=19 => LevelFilter::Debug,
        20..=29 => LevelFilter::Info,
        30..=39 => LevelFilter::Warn,
        40..=49 => LevelFilter::Error,
        _ => LevelFilter::Off,
    }
}

/// Our own records follow the Python logger's level; other crates' are kept at warn and above.
fn admits(target: &str, level: Level, max: LevelFilter) -> bool {
    let ours = target == "chromeguard" || target.starts_with("chromeguard::");
    let limit = if ours {
        max
    } else {
        max.min(LevelFilter::Warn)
    };
    level <= limit
}

/// Python logger name for a Rust target (`chromeguard::launcher` -> `chromeguard.launcher`).
fn logger_name(target: &str) -> String {
    if target == "chromeguard" || target.starts_with("chromeguard::") {
        target.replace("::", ".")
    } else {
        format!("chromeguard.deps.{}", target.replace("::", "."))
    }
}

impl Log for Bridge {
    fn enabled(&self, metadata: &Metadata) -> bool {
        let max = LevelFilter::iter()
            .nth(self.max.load(Ordering::Relaxed))
            .unwrap_or(LevelFilter::Off);
        admits(metadata.target(), metadata.level(), max)
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let entry = (
            python_level(record.level()),
            logger_name(record.target()),
            record.args().to_string(),
        );
        {
            let mut queue = self.queue.lock();
            if queue.len() >= QUEUE_LIMIT {
                queue.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            queue.push_back(entry);
        }
        if let Some(wake) = self.wake.lock().as_mut() {
            // Non-blocking: a full pipe already means "records are waiting".
            let _ = wake.write(b"!");
        }
    }

    fn flush(&self) {}
}

fn bridge() -> &'static Bridge {
    BRIDGE.get_or_init(|| Bridge {
        queue: Mutex::new(VecDeque::new()),
        wake: Mutex::new(None),
        max: AtomicUsize::new(LevelFilter::Warn as usize),
        dropped: AtomicU64::new(0),
    })
}

/// Installs the bridge as the `log` logger (once per process).
pub fn install() {
    let bridge = bridge();
    if log::set_logger(bridge).is_ok() {
        log::set_max_level(LevelFilter::Trace);
    }
}

/// Sets the threshold from a Python level number (`logging.DEBUG` == 10, ...).
pub fn set_level(python_level: u32) {
    bridge()
        .max
        .store(filter_for(python_level) as usize, Ordering::Relaxed);
}

/// Creates the wake-up pipe and returns its read end for the Python side to wait on.
pub fn wake_pipe() -> std::io::Result<RawFd> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors; the write end is owned by the bridge from here on.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The read end blocks so the Python thread can sleep on it.
    unsafe {
        let flags = libc::fcntl(fds[0], libc::F_GETFL);
        libc::fcntl(fds[0], libc::F_SETFL, flags & !libc::O_NONBLOCK);
    }
    *bridge().wake.lock() = Some(unsafe { File::from_raw_fd(fds[1]) });
    Ok(fds[0])
}

/// Takes every queued record, and how many were dropped since the last call.
pub fn drain() -> (Vec<Entry>, u64) {
    let bridge = bridge();
    let entries = bridge.queue.lock().drain(..).collect();
    (entries, bridge.dropped.swap(0, Ordering::Relaxed))
}

/// After fork() a lock held by another thread of the parent would never be released.
pub fn reset_after_fork() {
    let bridge = bridge();
    if bridge.queue.is_locked() {
        // SAFETY: the holder does not exist in the forked child.
        unsafe { bridge.queue.force_unlock() };
    }
    if bridge.wake.is_locked() {
        // SAFETY: as above.
        unsafe { bridge.wake.force_unlock() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_both_ways() {
        assert_eq!(python_level(Level::Warn), 30);
        assert_eq!(filter_for(10), LevelFilter::Debug);
        assert_eq!(filter_for(20), LevelFilter::Info);
        assert_eq!(filter_for(50), LevelFilter::Off);
        assert_eq!(filter_for(0), LevelFilter::Trace);
    }

    #[test]
    fn other_crates_stay_at_warn() {
        assert!(admits(
            "chromeguard::launcher",
            Level::Debug,
            LevelFilter::Debug
        ));
        assert!(!admits(
            "tungstenite::protocol",
            Level::Debug,
            LevelFilter::Debug
        ));
        assert!(admits(
            "tungstenite::protocol",
            Level::Warn,
            LevelFilter::Debug
        ));
        assert!(!admits("chromeguard", Level::Info, LevelFilter::Warn));
    }

    #[test]
    fn logger_names_live_under_chromeguard() {
        assert_eq!(logger_name("chromeguard::launcher"), "chromeguard.launcher");
        assert_eq!(logger_name("mio::poll"), "chromeguard.deps.mio.poll");
    }

    #[test]
    fn records_are_queued_and_drained() {
        install();
        set_level(10);
        log::debug!(target: "chromeguard::test", "hello {}", 42);
        let (entries, _) = drain();
        assert!(entries
            .iter()
            .any(|(lvl, name, msg)| *lvl == 10 && name == "chromeguard.test" && msg == "hello 42"));
    }
}
