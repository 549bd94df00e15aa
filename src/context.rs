//! Browser contexts: Chrome's incognito-like profiles inside one browser. A scrape runs in a
//! `FreshPage` (a new context with one blank page, attached, its events enabled), so nothing is
//! shared between scrapes; the context is disposed, with every page in it, when dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use headless_chrome::protocol::cdp::Target;
use serde_json::json;

use crate::browser::Browser;
use crate::errors::{Error, Result};
use crate::transport::{Connection, Uninterruptible};

/// Watches the page's timers, requests and DOM changes so that settling can end early.
const SETTLE_INIT_JS: &str = include_str!("js/settle_init.js");

/// Bookkeeping calls (contexts, targets, domains) answer in milliseconds on a healthy browser;
/// one that takes longer than this is hung and gets replaced.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A browser context, disposed (with every page in it) when dropped.
pub struct Context {
    connection: Arc<Connection>,
    healthy: Arc<AtomicBool>,
    pub id: String,
}

impl Context {
    pub fn create(browser: &Browser) -> Result<Self> {
        let connection = Arc::clone(browser.connection()?);
        let created = connection
            .call(
                None,
                "Target.createBrowserContext",
                json!({ "disposeOnDetach": false }),
                SETUP_TIMEOUT,
                &Uninterruptible,
            )
            .map_err(hung)?;
        let id = created["browserContextId"]
            .as_str()
            .ok_or_else(|| Error::BrowserClosed("Chrome created a context without an id".into()))?
            .to_owned();
        let context = Self {
            connection,
            healthy: browser.health_flag(),
            id,
        };
        // Denied downloads never touch the disk; navigations to them end in net::ERR_ABORTED.
        context
            .connection
            .call(
                None,
                "Browser.setDownloadBehavior",
                json!({ "behavior": "deny", "browserContextId": context.id }),
                SETUP_TIMEOUT,
                &Uninterruptible,
            )
            .map_err(hung)?;
        Ok(context)
    }

    /// Opens a blank page in this context and attaches to it; returns (target, session).
    pub fn open_page(&self) -> Result<(String, String)> {
        let created = self
            .connection
            .call(
                None,
                "Target.createTarget",
                json!({ "url": "about:blank", "browserContextId": self.id }),
                SETUP_TIMEOUT,
                &Uninterruptible,
            )
            .map_err(hung)?;
        let target_id = created["targetId"]
            .as_str()
            .ok_or_else(|| Error::BrowserClosed("Chrome created a page without an id".into()))?
            .to_owned();
        let attached = self
            .connection
            .call_typed(
                None,
                Target::AttachToTarget {
                    target_id: target_id.clone(),
                    flatten: Some(true),
                },
                SETUP_TIMEOUT,
            )
            .map_err(hung)?;
        Ok((target_id, attached.session_id))
    }

    pub fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    fn call(&self, session: &str, method: &str, params: serde_json::Value) -> Result<()> {
        self.connection
            .call(
                Some(session),
                method,
                params,
                SETUP_TIMEOUT,
                &Uninterruptible,
            )
            .map(drop)
            .map_err(hung)
    }
}

/// A new context with one blank page whose page, lifecycle and network events are on and whose
/// settle watcher is installed: ready to navigate. Opening one costs a renderer start (tens of milliseconds), which is why pools
/// open them ahead of time.
pub struct FreshPage {
    pub context: Context,
    pub target_id: String,
    pub session: String,
}

impl FreshPage {
    pub fn open(browser: &Browser) -> Result<Self> {
        let context = Context::create(browser)?;
        let (target_id, session) = context.open_page()?;
        context.call(&session, "Page.enable", json!({}))?;
        context.call(
            &session,
            "Page.setLifecycleEventsEnabled",
            json!({ "enabled": true }),
        )?;
        context.call(&session, "Network.enable", json!({}))?;
        context.call(
            &session,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": SETTLE_INIT_JS }),
        )?;
        Ok(Self {
            context,
            target_id,
            session,
        })
    }
}

impl Drop for Context {
    /// Disposal is sent without waiting (it is off the scrape's critical path); if Chrome
    /// refuses it, the browser is marked unhealthy so that its pool retires it.
    fn drop(&mut self) {
        let healthy = Arc::clone(&self.healthy);
        let id = self.id.clone();
        let sent = self.connection.send_detached(
            None,
            "Target.disposeBrowserContext",
            json!({ "browserContextId": self.id }),
            Box::new(move |reply| {
                if let Err((code, message)) = reply {
                    log::warn!("Chrome could not dispose browser context {id}: {message} ({code})");
                    healthy.store(false, Ordering::SeqCst);
                }
            }),
        );
        if sent.is_err() {
            self.healthy.store(false, Ordering::SeqCst);
        }
    }
}

/// A bookkeeping call that timed out means the browser is hung: report it as gone so the
/// pool replaces it.
pub fn hung(err: Error) -> Error {
    match err {
        Error::Timeout { what, .. } => Error::BrowserClosed(format!(
            "Chrome stopped answering ({what} timed out); it will be replaced"
        )),
        other => other,
    }
}
