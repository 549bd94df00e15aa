//! A launched browser's lifecycle: set-up after launch, the current page, and a close that
//! always ends the same way: graceful `Browser.close`, a bounded wait, SIGKILL of the whole
//! process group, every child reaped, the profile removed. Browsers still open at interpreter
//! exit (or dropped) are closed too.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use headless_chrome::protocol::cdp::Browser as CdpBrowser;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use serde_json::Value;

use crate::errors::{Error, Result};
use crate::page::{Page, COMMAND_TIMEOUT};
use crate::profile::ProfileDir;
use crate::stats::{self, STATS};
use crate::stderr_tail::StderrTail;
use crate::transport::{Connection, Incoming, Uninterruptible};
use crate::{process, remote};

/// How long Chrome gets to shut down by itself (it flushes a persistent profile) before the
/// process group is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// How long SIGKILLed processes get to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Everything a successful launch hands over.
pub struct Running {
    pub child: Child,
    pub connection: Arc<Connection>,
    pub stderr: StderrTail,
    pub version: String,
    pub profile: ProfileDir,
    pub executable: PathBuf,
}

struct Shared {
    pid: u32,
    /// The process that launched this browser; a fork()ed child must not kill its parent's.
    owner_pid: u32,
    executable: PathBuf,
    version: String,
    profile_dir: PathBuf,
    user_data_dir: PathBuf,
    connection: Arc<Connection>,
    stderr: StderrTail,
    child: Mutex<Option<Child>>,
    profile: Mutex<Option<ProfileDir>>,
    page: Mutex<Option<Arc<Page>>>,
    closed: AtomicBool,
    /// Cleared when Chrome stopped answering bookkeeping calls; a pool retires such a browser.
    healthy: Arc<AtomicBool>,
    /// A browser that runs elsewhere: closing it only closes the connection.
    remote: bool,
}

/// Open browsers, so that interpreter exit can close what the program left open.
static LIVE: Lazy<Mutex<Vec<Weak<Shared>>>> = Lazy::new(|| Mutex::new(Vec::new()));

/// A handle to one running Chrome; clones share it.
#[derive(Clone)]
pub struct Browser {
    shared: Arc<Shared>,
}

impl Browser {
    /// Takes ownership of a started Chrome and prepares it: downloads are denied (the browser
    /// never writes one to disk) and a page is opened (the headless shell starts with none).
    pub fn adopt(running: Running) -> Result<Self> {
        let shared = Arc::new(Shared {
            pid: running.child.id(),
            owner_pid: std::process::id(),
            executable: running.executable,
            version: running.version,
            profile_dir: running.profile.root().to_path_buf(),
            user_data_dir: running.profile.user_data_dir().to_path_buf(),
            connection: running.connection,
            stderr: running.stderr,
            child: Mutex::new(Some(running.child)),
            profile: Mutex::new(Some(running.profile)),
            page: Mutex::new(None),
            closed: AtomicBool::new(false),
            healthy: Arc::new(AtomicBool::new(true)),
            remote: false,
        });
        let browser = Self::register(shared);
        if let Err(err) = browser.prepare() {
            let _ = browser.close();
            return Err(err);
        }
        log::debug!(
            "launched {} pid {} with profile {}",
            browser.shared.version,
            browser.shared.pid,
            browser.shared.profile_dir.display()
        );
        Ok(browser)
    }

    fn register(shared: Arc<Shared>) -> Self {
        stats::bump(&STATS.active_browsers);
        let mut live = LIVE.lock();
        live.retain(|weak| weak.strong_count() > 0);
        live.push(Arc::downgrade(&shared));
        Self { shared }
    }

    /// Attaches to a browser that runs elsewhere (see `remote`). It is never closed by
    /// chromeguard: `close()` only ends the connection.
    pub fn connect(endpoint: &str, timeout: Duration) -> Result<Self> {
        let remote::Wire {
            source,
            sink,
            ws_url,
        } = remote::connect(endpoint, timeout)?;
        let connection = Connection::over(source, sink, "remote")?;
        let version = connection
            .call_typed(None, CdpBrowser::GetVersion(None), timeout)
            .inspect_err(|_| connection.shutdown())?;
        log::debug!("connected to {} at {ws_url}", version.product);
        Ok(Self::register(Arc::new(Shared {
            pid: 0,
            owner_pid: std::process::id(),
            executable: PathBuf::from(ws_url),
            version: version.product,
            profile_dir: PathBuf::new(),
            user_data_dir: PathBuf::new(),
            connection,
            stderr: StderrTail::default(),
            child: Mutex::new(None),
            profile: Mutex::new(None),
            page: Mutex::new(None),
            closed: AtomicBool::new(false),
            healthy: Arc::new(AtomicBool::new(true)),
            remote: true,
        })))
    }

    fn prepare(&self) -> Result<()> {
        let connection = &self.shared.connection;
        connection.call_typed(
            None,
            CdpBrowser::SetDownloadBehavior {
                behavior: CdpBrowser::SetDownloadBehaviorBehaviorOption::Deny,
                browser_context_id: None,
                download_path: None,
                events_enabled: None,
            },
            COMMAND_TIMEOUT,
        )?;
        let existing = self.page_ids()?.into_iter().next();
        let page = match existing {
            Some(target_id) => Page::attach(Arc::clone(connection), target_id)?,
            None => Page::create(Arc::clone(connection))?,
        };
        *self.shared.page.lock() = Some(Arc::new(page));
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.shared.pid
    }

    pub fn version(&self) -> &str {
        &self.shared.version
    }

    /// The browser's private directory (removed on close).
    pub fn profile_dir(&self) -> &Path {
        &self.shared.profile_dir
    }

    pub fn user_data_dir(&self) -> &Path {
        &self.shared.user_data_dir
    }

    pub fn executable(&self) -> &Path {
        &self.shared.executable
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// Whether Chrome is still running and reachable.
    pub fn is_alive(&self) -> bool {
        if self.is_closed() || self.shared.connection.is_closed() {
            return false;
        }
        match self.shared.child.lock().as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => self.shared.remote,
        }
    }

    /// Records that Chrome misbehaved (a call timed out, a context would not go away).
    pub fn mark_unhealthy(&self) {
        self.shared.healthy.store(false, Ordering::SeqCst);
    }

    /// The flag behind `mark_unhealthy`, for code that must not keep the browser alive.
    pub fn health_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shared.healthy)
    }

    /// Alive and never marked unhealthy.
    pub fn is_healthy(&self) -> bool {
        self.shared.healthy.load(Ordering::SeqCst) && self.is_alive()
    }

    fn ensure_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::BrowserClosed(
                "this browser is closed; create a new one with chromeguard.create_browser()".into(),
            ));
        }
        if self.shared.owner_pid != std::process::id() {
            return Err(Error::BrowserClosed(format!(
                "this browser belongs to process {} (it was created before fork()); create a new one in this process",
                self.shared.owner_pid
            )));
        }
        Ok(())
    }

    /// The page that navigation and scripts act on.
    pub fn page(&self) -> Result<Arc<Page>> {
        self.ensure_open()?;
        self.shared.page.lock().clone().ok_or_else(|| {
            Error::NoPage("the current window was closed; switch_to.window() to another one".into())
        })
    }

    /// The ids of the browser's pages (tabs), in Chrome's order.
    pub fn page_ids(&self) -> Result<Vec<String>> {
        let targets = self.connection()?.call(
            None,
            "Target.getTargets",
            Value::Null,
            COMMAND_TIMEOUT,
            &Uninterruptible,
        )?;
        Ok(targets["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|info| info["type"] == "page")
            .filter_map(|info| info["targetId"].as_str().map(str::to_owned))
            .collect())
    }

    /// Makes the page `target_id` the one navigation and scripts act on.
    pub fn switch_page(&self, target_id: &str) -> Result<()> {
        if !self.page_ids()?.iter().any(|id| id == target_id) {
            return Err(Error::NoPage(format!(
                "no window with handle {target_id:?}; see window_handles"
            )));
        }
        let page = Page::attach(Arc::clone(&self.shared.connection), target_id.to_owned())?;
        *self.shared.page.lock() = Some(Arc::new(page));
        Ok(())
    }

    /// Closes the current page; afterwards there is no current page until `switch_page`.
    pub fn close_page(&self) -> Result<()> {
        let page = self.page()?;
        let connection = self.connection()?;
        // Wait for Chrome to report the target gone, so that window_handles no longer lists it.
        let events = connection.subscribe(None);
        let discover = |on: bool| {
            connection.call(
                None,
                "Target.setDiscoverTargets",
                serde_json::json!({ "discover": on }),
                COMMAND_TIMEOUT,
                &Uninterruptible,
            )
        };
        discover(true)?;
        page.close()?;
        *self.shared.page.lock() = None;
        let deadline = std::time::Instant::now() + COMMAND_TIMEOUT;
        events.pump(deadline, &Uninterruptible, &mut |incoming| {
            Ok(matches!(incoming, Incoming::Event(ref e)
                if e.method == "Target.targetDestroyed" && e.params["targetId"] == page.target_id.as_str()))
        })?;
        discover(false)?;
        Ok(())
    }

    /// The browser-level CDP connection.
    pub fn connection(&self) -> Result<&Arc<Connection>> {
        self.ensure_open()?;
        Ok(&self.shared.connection)
    }

    /// Closes the browser; idempotent. Removes the profile unless it is a persistent one.
    pub fn close(&self) -> Result<()> {
        self.shared.close()
    }
}

impl Shared {
    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        if self.owner_pid != std::process::id() {
            // Inherited through fork(): the parent owns this Chrome and its profile.
            return Ok(());
        }
        if self.remote {
            self.connection.shutdown();
            self.connection.wait_closed(CLOSE_GRACE);
            stats::drop_one(&STATS.active_browsers);
            stats::bump(&STATS.browsers_closed);
            return Ok(());
        }
        if !self.connection.is_closed() {
            let _ = self.connection.call(
                None,
                "Browser.close",
                Value::Null,
                CLOSE_GRACE,
                &Uninterruptible,
            );
            // Wait for every helper to exit, not just for the pipe to close: Chrome reaps its
            // zygotes on a clean exit, while killing it first leaves them as zombies of init.
            self.stderr.wait_ended(CLOSE_GRACE);
        }
        let pgid = self.pid as i32;
        if let Some(mut child) = self.child.lock().take() {
            let stderr = &self.stderr;
            if !process::end_group(
                pgid,
                &mut child,
                |limit| stderr.wait_ended(limit),
                KILL_WAIT,
            ) {
                log::warn!("Chrome process group {pgid} still has members after SIGKILL");
            }
        }
        stats::drop_one(&STATS.active_browsers);
        stats::bump(&STATS.browsers_closed);
        let removed = match self.profile.lock().take() {
            Some(profile) => profile.remove(),
            None => Ok(()),
        };
        log::debug!("closed Chrome pid {}", self.pid);
        match removed {
            Ok(()) => {
                stats::bump(&STATS.profiles_removed);
                Ok(())
            }
            Err(err) => Err(Error::Io(std::io::Error::new(
                err.kind(),
                format!(
                    "Chrome was stopped but its profile {} could not be removed: {err}",
                    self.profile_dir.display()
                ),
            ))),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Err(err) = self.close() {
            log::warn!("closing a dropped browser: {err}");
        }
    }
}

/// Closes every browser of this process that is still open; returns how many.
pub fn close_all() -> usize {
    let open: Vec<Arc<Shared>> = LIVE.lock().drain(..).filter_map(|w| w.upgrade()).collect();
    let mut closed = 0;
    for shared in open {
        if !shared.closed.load(Ordering::SeqCst) {
            closed += 1;
        }
        if let Err(err) = shared.close() {
            log::warn!("closing browser at exit: {err}");
        }
    }
    closed
}
