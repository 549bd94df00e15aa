//! One page (a CDP target with its flat session): navigation that waits on Chrome's lifecycle
//! events rather than polling, and script evaluation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Target;
use serde_json::{json, Value};

use crate::errors::{Error, Result, TimeoutKind};
use crate::transport::{Connection, Incoming, Interrupt, Uninterruptible};

/// Short bookkeeping calls (enable a domain, attach) answer in milliseconds; this bounds them
/// in case Chrome is wedged.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The lifecycle event a navigation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitUntil {
    DomContentLoaded,
    Load,
    NetworkIdle,
}

impl WaitUntil {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "domcontentloaded" => Ok(Self::DomContentLoaded),
            "load" => Ok(Self::Load),
            "networkidle" => Ok(Self::NetworkIdle),
            other => Err(Error::InvalidOption(format!(
                "wait_until must be \"domcontentloaded\", \"load\" or \"networkidle\", not {other:?}"
            ))),
        }
    }

    /// The name of the CDP `Page.lifecycleEvent` this stands for.
    pub fn lifecycle_name(self) -> &'static str {
        match self {
            Self::DomContentLoaded => "DOMContentLoaded",
            Self::Load => "load",
            Self::NetworkIdle => "networkIdle",
        }
    }
}

/// How a navigation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Navigated {
    /// A new document reached the awaited lifecycle state.
    Loaded,
    /// A fragment or history change within the same document.
    SameDocument,
    /// Chrome aborted it (net::ERR_ABORTED): the response was a download, not a page.
    Aborted,
}

pub struct Page {
    connection: Arc<Connection>,
    pub target_id: String,
    pub session_id: String,
}

impl Page {
    /// Attaches to `target_id` and enables the events navigation waits on.
    pub fn attach(connection: Arc<Connection>, target_id: String) -> Result<Self> {
        let attached = connection.call_typed(
            None,
            Target::AttachToTarget {
                target_id: target_id.clone(),
                flatten: Some(true),
            },
            COMMAND_TIMEOUT,
        )?;
        let page = Self {
            connection,
            target_id,
            session_id: attached.session_id,
        };
        page.command("Page.enable", Value::Null)?;
        page.command("Page.setLifecycleEventsEnabled", json!({ "enabled": true }))?;
        Ok(page)
    }

    /// Opens a new blank page target and attaches to it.
    pub fn create(connection: Arc<Connection>) -> Result<Self> {
        let created = connection.call(
            None,
            "Target.createTarget",
            json!({ "url": "about:blank" }),
            COMMAND_TIMEOUT,
            &Uninterruptible,
        )?;
        let target_id = created["targetId"]
            .as_str()
            .ok_or_else(|| protocol_error("Target.createTarget", "no targetId in reply"))?
            .to_owned();
        Self::attach(connection, target_id)
    }

    /// A command on this page's session.
    pub fn command(&self, method: &str, params: Value) -> Result<Value> {
        self.command_with(method, params, COMMAND_TIMEOUT, &Uninterruptible)
    }

    pub fn command_with(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
        interrupt: &dyn Interrupt,
    ) -> Result<Value> {
        self.connection
            .call(Some(&self.session_id), method, params, timeout, interrupt)
    }

    /// Navigates and waits for `wait_until`. A Chrome network error (`net::ERR_*`) is a
    /// `Navigation` error; an HTTP error status is not (the page loaded).
    pub fn navigate(
        &self,
        url: &str,
        wait_until: WaitUntil,
        timeout: Duration,
        interrupt: &dyn Interrupt,
    ) -> Result<Navigated> {
        let deadline = Instant::now() + timeout;
        // Subscribe before navigating: the lifecycle event may arrive before the reply.
        let events = self.connection.subscribe(Some(&self.session_id));
        let reply = self
            .command_with("Page.navigate", json!({ "url": url }), timeout, interrupt)
            .map_err(|err| match err {
                Error::Timeout { what, after, .. } => Error::Timeout {
                    kind: TimeoutKind::Navigation,
                    what,
                    after,
                },
                other => other,
            })
            .map_err(|err| match err {
                Error::Protocol { message, .. } if message.contains("invalid URL") => {
                    Error::InvalidUrl(format!("cannot navigate to {url:?}: {message}"))
                }
                other => other,
            })?;
        if let Some(error_text) = reply["errorText"].as_str().filter(|t| !t.is_empty()) {
            if error_text == "net::ERR_ABORTED" {
                return Ok(Navigated::Aborted);
            }
            return Err(Error::Navigation {
                url: url.to_owned(),
                error_text: error_text.to_owned(),
            });
        }
        let Some(loader_id) = reply["loaderId"].as_str() else {
            return Ok(Navigated::SameDocument);
        };
        let wanted = wait_until.lifecycle_name();
        loop {
            let Some(incoming) = events.next_before(deadline, interrupt)? else {
                // Leave the page quiet for the next caller rather than loading in the background.
                let _ = self.command("Page.stopLoading", Value::Null);
                return Err(Error::Timeout {
                    kind: TimeoutKind::Navigation,
                    what: format!("loading {url}"),
                    after: timeout,
                });
            };
            let Incoming::Event(event) = incoming else {
                continue;
            };
            if event.method == "Page.lifecycleEvent"
                && event.params["name"] == wanted
                && event.params["loaderId"] == loader_id
            {
                return Ok(Navigated::Loaded);
            }
        }
    }

    /// Runs a command that may navigate (reload, history) and waits for the main frame's load
    /// event, or for a same-document navigation.
    pub fn command_then_load(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
        interrupt: &dyn Interrupt,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let events = self.connection.subscribe(Some(&self.session_id));
        self.command_with(method, params, timeout, interrupt)?;
        loop {
            let Some(incoming) = events.next_before(deadline, interrupt)? else {
                return Err(Error::Timeout {
                    kind: TimeoutKind::Navigation,
                    what: format!("the page load after {method}"),
                    after: timeout,
                });
            };
            if let Incoming::Event(event) = incoming {
                let main = event.params["frameId"] == self.target_id.as_str();
                match event.method.as_str() {
                    "Page.loadEventFired" => return Ok(()),
                    "Page.navigatedWithinDocument" if main => return Ok(()),
                    _ => {}
                }
            }
        }
    }

    /// Goes `delta` entries back (negative) or forward in the page's history and waits for
    /// the page; does nothing at either end of the history, as browsers do.
    pub fn go_history(
        &self,
        delta: i64,
        timeout: Duration,
        interrupt: &dyn Interrupt,
    ) -> Result<()> {
        let history = self.command("Page.getNavigationHistory", Value::Null)?;
        let current = history["currentIndex"].as_i64().unwrap_or(0);
        let entries = history["entries"].as_array().cloned().unwrap_or_default();
        let Some(entry) = usize::try_from(current + delta)
            .ok()
            .and_then(|index| entries.get(index))
        else {
            return Ok(());
        };
        self.command_then_load(
            "Page.navigateToHistoryEntry",
            json!({ "entryId": entry["id"] }),
            timeout,
            interrupt,
        )
    }

    /// Evaluates `expression` and returns its JSON value (`undefined` becomes null). A thrown
    /// exception is a `Javascript` error carrying its description.
    pub fn evaluate(
        &self,
        expression: &str,
        await_promise: bool,
        timeout: Duration,
        interrupt: &dyn Interrupt,
    ) -> Result<Value> {
        let mut reply = self.command_with(
            "Runtime.evaluate",
            json!({
                "expression": expression,
                "returnByValue": true,
                "awaitPromise": await_promise,
                "userGesture": true,
            }),
            timeout,
            interrupt,
        )?;
        if let Some(details) = reply.get("exceptionDetails") {
            return Err(Error::Javascript(exception_text(details)));
        }
        Ok(reply["result"]
            .get_mut("value")
            .map(Value::take)
            .unwrap_or(Value::Null))
    }

    /// Closes the page's target.
    pub fn close(&self) -> Result<()> {
        self.connection.call_typed(
            None,
            Target::CloseTarget {
                target_id: self.target_id.clone(),
            },
            COMMAND_TIMEOUT,
        )?;
        Ok(())
    }
}

fn protocol_error(method: &str, message: &str) -> Error {
    Error::Protocol {
        method: method.to_owned(),
        code: -1,
        message: message.to_owned(),
    }
}

/// The most useful text of a CDP `exceptionDetails`: the thrown error's description (which
/// includes its stack) or else the summary text.
fn exception_text(details: &Value) -> String {
    details["exception"]["description"]
        .as_str()
        .or_else(|| details["exception"]["value"].as_str())
        .or_else(|| details["text"].as_str())
        .unwrap_or("unknown JavaScript exception")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_names_are_checked() {
        assert_eq!(WaitUntil::parse("load").unwrap(), WaitUntil::Load);
        assert_eq!(
            WaitUntil::parse("networkidle").unwrap().lifecycle_name(),
            "networkIdle"
        );
        assert!(matches!(
            WaitUntil::parse("idle"),
            Err(Error::InvalidOption(_))
        ));
    }

    #[test]
    fn exception_text_prefers_the_description() {
        let thrown = json!({"text": "Uncaught", "exception": {"description": "Error: boom\n    at <anonymous>:1:7"}});
        assert!(exception_text(&thrown).starts_with("Error: boom"));
        let primitive =
            json!({"text": "Uncaught", "exception": {"type": "string", "value": "plain"}});
        assert_eq!(exception_text(&primitive), "plain");
        assert_eq!(exception_text(&json!({"text": "Uncaught"})), "Uncaught");
    }
}
