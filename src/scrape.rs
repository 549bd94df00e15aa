//! The scrape pipeline, in a fresh browser context per page (no cookies, cache or storage shared
//! between scrapes): navigation watched through its network and lifecycle events, an optional
//! wait for a selector, a settle phase that ends as soon as the page is quiet, one DOM read, and
//! the classification of what the page offers for download. The context is disposed on every
//! path, so nothing of a scrape outlives it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use url::Url;

use crate::context::{hung, FreshPage, SETUP_TIMEOUT};
use crate::downloads::{
    filename_from_disposition, filename_from_url, has_extension, is_attachment, is_download_mime,
    looks_like_endpoint, sanitize_filename, DownloadLink, DownloadSet, Source,
};
use crate::errors::{Error, Result, TimeoutKind};
use crate::page::WaitUntil;
use crate::resolve::{self, Probe};
use crate::transport::{Event, Incoming, Interrupt, Subscription};
use crate::url_policy::UrlPolicy;

const SETTLE_JS: &str = include_str!("js/settle.js");
const WAIT_FOR_JS: &str = include_str!("js/wait_for.js");
const COLLECT_JS: &str = include_str!("js/collect.js");

/// How long the DOM must stay unchanged (with no timer or request pending) to count as settled.
const QUIET_MS: u64 = 5;
/// At most this many download-looking links are resolved per page.
const MAX_RESOLVED: usize = 16;

/// Everything a scrape needs besides the URL, already validated by the Python layer.
#[derive(Debug, Clone)]
pub struct ScrapeOptions {
    pub wait_until: WaitUntil,
    pub wait_for: Option<String>,
    pub timeout: Duration,
    pub settle: Duration,
    pub resolve: bool,
    pub include_html: bool,
    pub extensions: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub user_agent: Option<String>,
    /// CDP `Network.CookieParam` objects.
    pub cookies: Vec<Value>,
    /// Runs in every document of the page before its own scripts (restores localStorage).
    pub init_script: Option<String>,
    pub policy: UrlPolicy,
}

/// Where a scrape's time went, for the debug log.
struct Phases {
    last: Instant,
    spent: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn new(started: Instant) -> Self {
        Self {
            last: started,
            spent: Vec::new(),
        }
    }

    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.spent.push((phase, now - self.last));
        self.last = now;
    }

    fn summary(&self) -> String {
        self.spent
            .iter()
            .map(|(phase, d)| format!("{phase} {:.1} ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a scrape found.
#[derive(Debug, Serialize)]
pub struct ScrapeOutcome {
    pub url: String,
    pub final_url: String,
    pub status: Option<u16>,
    pub title: String,
    pub links: Vec<String>,
    pub downloads: Vec<DownloadLink>,
    pub html: Option<String>,
    pub elapsed: f64,
    pub attempts: u32,
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers.as_object()?.iter().find_map(|(key, value)| {
        key.eq_ignore_ascii_case(name)
            .then(|| value.as_str())
            .flatten()
    })
}

/// What the page's events told us so far.
struct PageWatch<'a> {
    opts: &'a ScrapeOptions,
    session: String,
    main_frame: String,
    main_request: Option<String>,
    status: Option<u16>,
    final_url: Option<String>,
    lifecycle: HashSet<(String, String)>,
    network: Vec<DownloadLink>,
    blocked: Option<String>,
    crashed: bool,
}

impl PageWatch<'_> {
    fn on_event(&mut self, stream: &Subscription, event: Event) -> Result<()> {
        let params = &event.params;
        let session = event.session_id.as_deref();
        let from_page = session == Some(self.session.as_str());
        match event.method.as_str() {
            "Fetch.requestPaused" => {
                let request_id = params["requestId"].clone();
                let url = params["request"]["url"].as_str().unwrap_or_default();
                let allowed = Url::parse(url)
                    .map(|u| self.opts.policy.check_request(&u).is_ok())
                    .unwrap_or(true);
                if allowed {
                    stream.send(
                        session,
                        "Fetch.continueRequest",
                        json!({ "requestId": request_id }),
                    )?;
                } else {
                    log::info!("blocked request to {url}: private network");
                    if params["frameId"] == self.main_frame.as_str()
                        && params["resourceType"] == "Document"
                    {
                        self.blocked = Some(url.to_owned());
                    }
                    stream.send(
                        session,
                        "Fetch.failRequest",
                        json!({ "requestId": request_id, "errorReason": "BlockedByClient" }),
                    )?;
                }
            }
            "Target.attachedToTarget" => {
                // A cross-site frame or a worker: it makes requests of its own, which the
                // policy and the download watch must see too.
                if let Some(child) = params["sessionId"].as_str() {
                    stream.add_session(child);
                    if self.opts.policy.block_private_networks {
                        stream.send(
                            Some(child),
                            "Fetch.enable",
                            json!({ "patterns": [{ "urlPattern": "*" }] }),
                        )?;
                    }
                    stream.send(Some(child), "Network.enable", json!({}))?;
                    stream.send(Some(child), "Runtime.runIfWaitingForDebugger", Value::Null)?;
                }
            }
            "Page.javascriptDialogOpening" => {
                // An unanswered alert() blocks the page's load event forever.
                stream.send(
                    session,
                    "Page.handleJavaScriptDialog",
                    json!({ "accept": false }),
                )?;
            }
            "Network.requestWillBeSent"
                if from_page
                    && params["type"] == "Document"
                    && params["frameId"] == self.main_frame.as_str() =>
            {
                self.main_request = params["requestId"].as_str().map(str::to_owned);
                self.final_url = params["request"]["url"].as_str().map(str::to_owned);
            }
            "Network.responseReceived" => {
                let response = &params["response"];
                if from_page
                    && self.main_request.is_some()
                    && params["requestId"].as_str() == self.main_request.as_deref()
                {
                    self.status = response["status"]
                        .as_u64()
                        .and_then(|s| u16::try_from(s).ok());
                    self.final_url = response["url"].as_str().map(str::to_owned);
                }
                self.watch_download(response);
            }
            "Page.lifecycleEvent" if from_page && params["frameId"] == self.main_frame.as_str() => {
                if let (Some(loader), Some(name)) =
                    (params["loaderId"].as_str(), params["name"].as_str())
                {
                    self.lifecycle.insert((loader.to_owned(), name.to_owned()));
                }
            }
            "Inspector.targetCrashed" if from_page => self.crashed = true,
            _ => {}
        }
        if self.crashed {
            return Err(Error::BrowserClosed(
                "the page's renderer process crashed".into(),
            ));
        }
        Ok(())
    }

    /// A response is a download when it asks to be saved (Content-Disposition: attachment)
    /// or carries a binary or media type.
    fn watch_download(&mut self, response: &Value) {
        let Some(url) = response["url"].as_str() else {
            return;
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return;
        }
        let headers = &response["headers"];
        let disposition = header(headers, "content-disposition");
        let mime = response["mimeType"].as_str().unwrap_or_default();
        let attachment = disposition.is_some_and(is_attachment);
        if !attachment && !is_download_mime(mime) {
            return;
        }
        let filename = disposition
            .and_then(filename_from_disposition)
            .or_else(|| Url::parse(url).ok().and_then(|u| filename_from_url(&u)));
        self.network.push(DownloadLink {
            url: url.to_owned(),
            text: String::new(),
            source: Source::Network,
            mime: (!mime.is_empty()).then(|| mime.to_owned()),
            filename,
        });
    }

    fn reached(&self, loader: &str, wait_until: WaitUntil) -> bool {
        self.lifecycle
            .contains(&(loader.to_owned(), wait_until.lifecycle_name().to_owned()))
    }
}

fn scrape_timeout(url: &Url, timeout: Duration, doing: &str) -> Error {
    Error::Timeout {
        kind: TimeoutKind::Scrape,
        what: format!("scraping {url} ({doing})"),
        after: timeout,
    }
}

/// Runs one command on the page, answering events meanwhile.
fn command(
    stream: &Subscription,
    watch: &mut PageWatch<'_>,
    method: &str,
    params: Value,
    deadline: Instant,
    interrupt: &dyn Interrupt,
) -> Result<Option<Value>> {
    let session = watch.session.clone();
    stream.call(
        Some(&session),
        method,
        params,
        deadline,
        interrupt,
        &mut |event| watch.on_event(stream, event),
    )
}

/// Evaluates a script in the page (Promises awaited); `Ok(None)` if the deadline passed.
fn evaluate(
    stream: &Subscription,
    watch: &mut PageWatch<'_>,
    expression: String,
    deadline: Instant,
    interrupt: &dyn Interrupt,
) -> Result<Option<Value>> {
    let params = json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
    let Some(mut reply) = command(
        stream,
        watch,
        "Runtime.evaluate",
        params,
        deadline,
        interrupt,
    )?
    else {
        return Ok(None);
    };
    if let Some(details) = reply.get("exceptionDetails") {
        let text = details["exception"]["description"]
            .as_str()
            .or_else(|| details["text"].as_str())
            .unwrap_or("exception")
            .to_owned();
        return Err(Error::Javascript(text));
    }
    Ok(Some(
        reply["result"]
            .get_mut("value")
            .map(Value::take)
            .unwrap_or(Value::Null),
    ))
}

/// Scrapes `url` in `page`, a fresh context that is disposed when the scrape ends.
pub fn scrape(
    page: FreshPage,
    url: &Url,
    opts: &ScrapeOptions,
    interrupt: &dyn Interrupt,
) -> Result<ScrapeOutcome> {
    let started = Instant::now();
    let deadline = started + opts.timeout;
    let FreshPage {
        context,
        target_id,
        session,
    } = page;
    let stream = context.connection().subscribe(Some(&session));
    let mut watch = PageWatch {
        opts,
        session: session.clone(),
        // A page target's id is also its main frame's id.
        main_frame: target_id,
        main_request: None,
        status: None,
        final_url: None,
        lifecycle: HashSet::new(),
        network: Vec::new(),
        blocked: None,
        crashed: false,
    };
    let setup_deadline = deadline.min(Instant::now() + SETUP_TIMEOUT);
    let mut setup = Vec::new();
    if let Some(agent) = &opts.user_agent {
        setup.push((
            "Network.setUserAgentOverride",
            json!({ "userAgent": agent }),
        ));
    }
    if !opts.headers.is_empty() {
        let headers: HashMap<&str, &str> = opts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        setup.push(("Network.setExtraHTTPHeaders", json!({ "headers": headers })));
    }
    if !opts.cookies.is_empty() {
        setup.push(("Network.setCookies", json!({ "cookies": opts.cookies })));
    }
    if let Some(source) = &opts.init_script {
        setup.push((
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        ));
    }
    if opts.policy.block_private_networks {
        setup.push((
            "Fetch.enable",
            json!({ "patterns": [{ "urlPattern": "*" }] }),
        ));
        setup.push((
            "Target.setAutoAttach",
            json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true }),
        ));
    }
    for (method, params) in setup {
        if command(
            &stream,
            &mut watch,
            method,
            params,
            setup_deadline,
            interrupt,
        )?
        .is_none()
        {
            return Err(if Instant::now() >= deadline {
                scrape_timeout(url, opts.timeout, "setting up the page")
            } else {
                hung(Error::Timeout {
                    kind: TimeoutKind::Operation,
                    what: method.to_owned(),
                    after: SETUP_TIMEOUT,
                })
            });
        }
    }

    let mut phases = Phases::new(started);
    phases.mark("setup");
    let navigated = command(
        &stream,
        &mut watch,
        "Page.navigate",
        json!({ "url": url.as_str() }),
        deadline,
        interrupt,
    )?
    .ok_or_else(|| scrape_timeout(url, opts.timeout, "waiting for the first response"))?;
    if let Some(error_text) = navigated["errorText"].as_str().filter(|t| !t.is_empty()) {
        if let Some(blocked) = watch.blocked.take() {
            return Err(Error::InvalidUrl(format!(
                "cannot scrape {url}: the request to {blocked} goes to a non-public address and block_private_networks is on"
            )));
        }
        if error_text != "net::ERR_ABORTED" {
            return Err(Error::Navigation {
                url: url.to_string(),
                error_text: error_text.to_owned(),
            });
        }
        // The URL itself is a download: Chrome saw its headers and, denied, aborted it.
        let mut downloads = DownloadSet::default();
        for link in watch.network.drain(..) {
            downloads.add(link);
        }
        return Ok(ScrapeOutcome {
            url: url.to_string(),
            final_url: watch.final_url.take().unwrap_or_else(|| url.to_string()),
            status: watch.status,
            title: String::new(),
            links: Vec::new(),
            downloads: downloads.into_vec(),
            html: None,
            elapsed: started.elapsed().as_secs_f64(),
            attempts: 1,
        });
    }
    if let Some(loader) = navigated["loaderId"].as_str().map(str::to_owned) {
        if !watch.reached(&loader, opts.wait_until) {
            let reached = stream.pump(deadline, interrupt, &mut |incoming| {
                if let Incoming::Event(event) = incoming {
                    watch.on_event(&stream, event)?;
                }
                Ok(watch.reached(&loader, opts.wait_until))
            })?;
            if !reached {
                return Err(scrape_timeout(
                    url,
                    opts.timeout,
                    "waiting for the page to load",
                ));
            }
        }
    }

    phases.mark("load");
    if let Some(selector) = &opts.wait_for {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let expression = format!(
            "({WAIT_FOR_JS})({}, {})",
            serde_json::to_string(selector)?,
            remaining.as_millis()
        );
        let found = evaluate(&stream, &mut watch, expression, deadline, interrupt).map_err(
            |err| match err {
                Error::Javascript(text) if text.contains("not a valid selector") => {
                    Error::InvalidOption(format!(
                        "wait_for {selector:?} is not a valid CSS selector"
                    ))
                }
                other => other,
            },
        )?;
        if found != Some(Value::Bool(true)) {
            return Err(scrape_timeout(
                url,
                opts.timeout,
                &format!("waiting for {selector:?}"),
            ));
        }
    }

    phases.mark("wait_for");
    if opts.settle > Duration::ZERO {
        let settle_deadline =
            deadline.min(Instant::now() + opts.settle + Duration::from_millis(100));
        let expression = format!("({SETTLE_JS})({}, {QUIET_MS})", opts.settle.as_millis());
        // Settling is best effort: running out of time here still returns what is there.
        evaluate(&stream, &mut watch, expression, settle_deadline, interrupt)?;
    }

    phases.mark("settle");
    let collected = evaluate(
        &stream,
        &mut watch,
        format!("({COLLECT_JS})({})", opts.include_html),
        deadline,
        interrupt,
    )?
    .ok_or_else(|| scrape_timeout(url, opts.timeout, "reading the page"))?;

    phases.mark("collect");
    let page_url = watch.final_url.clone().unwrap_or_else(|| url.to_string());
    let mut found = classify(&collected, opts);
    for link in watch.network.drain(..) {
        found.downloads.add(link);
    }
    if !found.candidates.is_empty() {
        let probes = resolve::probe_all(
            &context,
            &found.candidates,
            &page_url,
            &opts.policy,
            deadline,
            interrupt,
        )?;
        for ((_, text), probe) in found.candidates.iter().zip(probes) {
            if let Some(link) = probe.and_then(|p| resolved_download(p, text, &opts.extensions)) {
                found.downloads.add(link);
            }
        }
    }
    drop(stream);
    drop(context);
    phases.mark("resolve");
    log::debug!("scraped {url} in {}", phases.summary());
    Ok(ScrapeOutcome {
        url: url.to_string(),
        final_url: page_url,
        status: watch.status,
        title: collected["title"].as_str().unwrap_or_default().to_owned(),
        links: found.links,
        downloads: found.downloads.into_vec(),
        html: collected["html"].as_str().map(str::to_owned),
        elapsed: started.elapsed().as_secs_f64(),
        attempts: 1,
    })
}

/// What the DOM offers: every http(s) link, the downloads it shows, and the links worth
/// resolving.
struct Classified {
    links: Vec<String>,
    downloads: DownloadSet,
    candidates: Vec<(Url, String)>,
}

fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

fn classify(collected: &Value, opts: &ScrapeOptions) -> Classified {
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    let mut downloads = DownloadSet::default();
    let mut candidates: Vec<(Url, String)> = Vec::new();
    for anchor in collected["anchors"].as_array().into_iter().flatten() {
        let (Some(href), text) = (anchor[0].as_str(), anchor[1].as_str().unwrap_or_default())
        else {
            continue;
        };
        let Ok(url) = Url::parse(href) else { continue };
        if !is_web(&url) {
            continue;
        }
        if seen.insert(href.to_owned()) {
            links.push(href.to_owned());
        }
        let download_attr = anchor[2].as_str();
        if download_attr.is_some() || has_extension(&url, &opts.extensions) {
            let filename = download_attr
                .and_then(sanitize_filename)
                .or_else(|| filename_from_url(&url));
            // The fragment never reaches the server: the file is the same without it.
            let mut direct = url.clone();
            direct.set_fragment(None);
            downloads.add(DownloadLink {
                url: direct.to_string(),
                text: text.to_owned(),
                source: Source::Dom,
                mime: None,
                filename,
            });
        } else if opts.resolve
            && candidates.len() < MAX_RESOLVED
            && looks_like_endpoint(&url, text)
            && !candidates.iter().any(|(u, _)| *u == url)
        {
            candidates.push((url, text.to_owned()));
        }
    }
    for media in collected["media"].as_array().into_iter().flatten() {
        let Some(Ok(url)) = media[0].as_str().map(Url::parse) else {
            continue;
        };
        if !is_web(&url) {
            continue;
        }
        downloads.add(DownloadLink {
            url: url.to_string(),
            text: media[1].as_str().unwrap_or_default().to_owned(),
            source: Source::Dom,
            mime: media[2]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            filename: filename_from_url(&url),
        });
    }
    Classified {
        links,
        downloads,
        candidates,
    }
}

/// A resolved link is a download when its final response asks to be saved, has a download
/// type, or its final URL has a download extension.
fn resolved_download(probe: Probe, text: &str, extensions: &[String]) -> Option<DownloadLink> {
    let final_url = Url::parse(&probe.final_url).ok()?;
    let attachment = probe.disposition.as_deref().is_some_and(is_attachment);
    let typed = probe.mime.as_deref().is_some_and(is_download_mime);
    if !(attachment || typed || has_extension(&final_url, extensions)) || probe.status >= 400 {
        return None;
    }
    let filename = probe
        .disposition
        .as_deref()
        .and_then(filename_from_disposition)
        .or_else(|| filename_from_url(&final_url));
    let mime = probe
        .mime
        .map(|m| m.split(';').next().unwrap_or_default().trim().to_owned())
        .filter(|m| !m.is_empty());
    Some(DownloadLink {
        url: final_url.to_string(),
        text: text.to_owned(),
        source: Source::Redirect,
        mime,
        filename,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::downloads::DEFAULT_EXTENSIONS;

    fn options() -> ScrapeOptions {
        ScrapeOptions {
            wait_until: WaitUntil::Load,
            wait_for: None,
            timeout: Duration::from_secs(5),
            settle: Duration::ZERO,
            resolve: true,
            include_html: false,
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| (*e).to_owned()).collect(),
            headers: vec![],
            user_agent: None,
            cookies: vec![],
            init_script: None,
            policy: UrlPolicy::default(),
        }
    }

    #[test]
    fn classify_sorts_links_downloads_and_candidates() {
        let collected = json!({
            "anchors": [
                ["https://x.io/", "Home", null],
                ["https://x.io/app.apk", "App", null],
                ["https://x.io/app.apk#v2", "App again", null],
                ["https://x.io/blob", "Save", "../../evil.txt"],
                ["https://x.io/download/7", "Get the file", null],
                ["mailto:a@x.io", "Mail", null],
                ["javascript:void(0)", "JS", null],
            ],
            "media": [["https://x.io/v.webm", "Intro", "video/webm"], ["blob:https://x.io/1", "", null]],
        });
        let found = classify(&collected, &options());
        assert_eq!(
            found.links,
            [
                "https://x.io/",
                "https://x.io/app.apk",
                "https://x.io/app.apk#v2",
                "https://x.io/blob",
                "https://x.io/download/7"
            ]
        );
        let downloads = found.downloads.into_vec();
        let urls: Vec<_> = downloads.iter().map(|d| d.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://x.io/app.apk",
                "https://x.io/blob",
                "https://x.io/v.webm"
            ]
        );
        assert_eq!(downloads[1].filename.as_deref(), Some("evil.txt"));
        assert_eq!(downloads[2].mime.as_deref(), Some("video/webm"));
        assert_eq!(found.candidates.len(), 1);
        let mut no_resolve = options();
        no_resolve.resolve = false;
        assert!(classify(&collected, &no_resolve).candidates.is_empty());
    }

    #[test]
    fn resolved_links_count_only_when_they_lead_to_a_file() {
        let exts = options().extensions;
        let probe = |url: &str, status, mime: Option<&str>, disposition: Option<&str>| Probe {
            final_url: url.into(),
            status,
            mime: mime.map(Into::into),
            disposition: disposition.map(Into::into),
        };
        let file = resolved_download(
            probe("https://cdn.x.io/f.zip", 200, None, None),
            "Get",
            &exts,
        )
        .unwrap();
        assert_eq!(file.source, Source::Redirect);
        assert_eq!(file.filename.as_deref(), Some("f.zip"));
        let attachment = resolved_download(
            probe(
                "https://x.io/export?id=1",
                200,
                Some("text/csv; charset=utf-8"),
                Some("attachment; filename=\"r.csv\""),
            ),
            "Export",
            &exts,
        )
        .unwrap();
        assert_eq!(attachment.mime.as_deref(), Some("text/csv"));
        assert_eq!(attachment.filename.as_deref(), Some("r.csv"));
        assert!(resolved_download(
            probe("https://x.io/page", 200, Some("text/html"), None),
            "",
            &exts
        )
        .is_none());
        assert!(
            resolved_download(probe("https://x.io/gone.zip", 404, None, None), "", &exts).is_none()
        );
    }
}
