//! A pool of warm browsers for scrapes. `size` scrapes may run at once; they share browsers
//! (each scrape in its own context), at most `CONTEXTS_PER_BROWSER` per browser, because one
//! browser process with several contexts costs far less CPU and memory than one browser each.
//! Browsers start lazily, are recycled after `max_uses` contexts, and a browser that crashed or
//! hung is replaced while the scrape it broke is retried once on a fresh one.
//!
//! Opening a context costs a renderer start (tens of milliseconds, more than a small page
//! takes to load), so a warmer thread keeps one fresh page ready per browser: a scrape takes it
//! and the warmer opens the next while the scrape runs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use serde::Serialize;

use crate::browser::Browser;
use crate::context::FreshPage;
use crate::errors::{Error, Result, TimeoutKind};
use crate::launcher;
use crate::options::LaunchOptions;
use crate::scrape::{self, ScrapeOptions, ScrapeOutcome};
use crate::transport::{Interrupt, Uninterruptible};

/// Contexts one browser serves at once; more scrapes than this get another browser.
pub const CONTEXTS_PER_BROWSER: usize = 4;
/// Fresh pages kept ready per browser.
const SPARE_PAGES: usize = 2;
/// A browser that cannot count its contexts this fast is left out of `stats()`.
const STATS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting to a remote browser may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a remote endpoint that failed is skipped before it is tried again.
const REST: Duration = Duration::from_secs(5);
/// How often a waiting caller wakes up to honour Ctrl-C.
const WAKE_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub launch: LaunchOptions,
    pub size: usize,
    pub max_uses: u32,
    pub acquire_timeout: Duration,
    /// Browsers to attach to instead of launching, used round-robin.
    pub remote_endpoints: Vec<String>,
}

struct Slot {
    id: u64,
    browser: Browser,
    opened: u32,
    active: usize,
    retired: bool,
    spares: Vec<FreshPage>,
    warming: bool,
}

impl Slot {
    fn serves(&self) -> bool {
        !self.retired && self.browser.is_healthy()
    }
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    in_flight: usize,
    launching: usize,
    closed: bool,
    next_id: u64,
    /// The remote endpoint to try first next time.
    next_endpoint: usize,
    /// Remote endpoints that failed, not tried again before the instant given.
    resting: HashMap<String, Instant>,
}

/// Counters of one pool, for `BrowserPool.stats()`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PoolStats {
    pub size: usize,
    pub browsers: usize,
    pub in_use: usize,
    pub scrapes: u64,
    pub failures: u64,
    pub retries: u64,
    pub browsers_launched: u64,
    pub browsers_replaced: u64,
    pub browsers_recycled: u64,
    pub warm_hits: u64,
    /// Browser contexts open in the pool's browsers now (spare pages included).
    pub contexts: u64,
    pub spare_pages: u64,
}

struct Inner {
    opts: PoolOptions,
    state: Mutex<State>,
    changed: Condvar,
    stats: Mutex<PoolStats>,
}

pub struct Pool {
    inner: Arc<Inner>,
}

enum Claim {
    Ready {
        slot_id: u64,
        browser: Browser,
        spare: Option<FreshPage>,
    },
    Launch,
}

/// One scrape's place on a browser; gives it back when dropped.
struct Lease<'a> {
    inner: &'a Inner,
    slot_id: u64,
    browser: Browser,
    spare: Option<FreshPage>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.inner.release(self.slot_id);
    }
}

impl Pool {
    pub fn new(opts: PoolOptions) -> Self {
        let size = opts.size;
        let inner = Arc::new(Inner {
            opts,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stats: Mutex::new(PoolStats {
                size,
                ..PoolStats::default()
            }),
        });
        let warmer = Arc::clone(&inner);
        if let Err(err) = std::thread::Builder::new()
            .name("chromeguard-warmer".into())
            .spawn(move || warmer.warm())
        {
            log::warn!("no warmer thread ({err}); scrapes will open their pages themselves");
        }
        Self { inner }
    }

    /// Scrapes `url` (already checked against the URL policy).
    pub fn scrape(
        &self,
        url: &url::Url,
        opts: &ScrapeOptions,
        interrupt: &dyn Interrupt,
    ) -> Result<ScrapeOutcome> {
        let inner = &*self.inner;
        let mut attempt = 1;
        loop {
            let mut lease = inner.acquire(interrupt)?;
            let page = match lease.spare.take() {
                Some(page) => {
                    inner.stats.lock().warm_hits += 1;
                    Ok(page)
                }
                None => FreshPage::open(&lease.browser),
            };
            let result = page.and_then(|page| scrape::scrape(page, url, opts, interrupt));
            match result {
                Ok(mut outcome) => {
                    outcome.attempts = attempt;
                    inner.stats.lock().scrapes += 1;
                    return Ok(outcome);
                }
                Err(Error::BrowserClosed(reason)) if attempt == 1 => {
                    log::warn!(
                        "browser pid {} failed while scraping {url} ({reason}); replacing it and retrying",
                        lease.browser.pid()
                    );
                    lease.browser.mark_unhealthy();
                    let mut stats = inner.stats.lock();
                    stats.retries += 1;
                    stats.browsers_replaced += 1;
                    attempt += 1;
                }
                Err(err) => {
                    inner.stats.lock().failures += 1;
                    return Err(err);
                }
            }
        }
    }

    /// The pool's counters; `contexts` asks each browser how many contexts it has open.
    pub fn stats(&self) -> PoolStats {
        let browsers: Vec<Browser> = {
            let state = self.inner.state.lock();
            let mut stats = self.inner.stats.lock();
            stats.browsers = state.slots.len();
            stats.in_use = state.in_flight;
            stats.spare_pages = state.slots.iter().map(|s| s.spares.len() as u64).sum();
            state.slots.iter().map(|s| s.browser.clone()).collect()
        };
        let contexts = browsers
            .iter()
            .filter_map(|b| b.connection().ok())
            .filter_map(|c| {
                c.call(
                    None,
                    "Target.getBrowserContexts",
                    serde_json::Value::Null,
                    STATS_TIMEOUT,
                    &Uninterruptible,
                )
                .ok()
            })
            .map(|reply| reply["browserContextIds"].as_array().map_or(0, Vec::len) as u64)
            .sum();
        let mut stats = self.inner.stats.lock().clone();
        stats.contexts = contexts;
        stats
    }

    /// Closes every browser; scrapes still running fail, later calls raise BrowserClosed.
    pub fn close(&self) {
        let slots: Vec<Slot> = {
            let mut state = self.inner.state.lock();
            state.closed = true;
            state.slots.drain(..).collect()
        };
        self.inner.changed.notify_all();
        close_slots(slots);
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

impl Inner {
    fn max_browsers(&self) -> usize {
        // Every remote endpoint gets a connection, so the load spreads over all of them.
        self.opts
            .size
            .div_ceil(CONTEXTS_PER_BROWSER)
            .max(self.opts.remote_endpoints.len())
            .max(1)
    }

    /// A new browser for the pool: launched here, or attached to the next remote endpoint
    /// (round-robin; an endpoint that failed rests a while, unless all of them do).
    fn open_browser(&self, interrupt: &dyn Interrupt) -> Result<Browser> {
        let endpoints = &self.opts.remote_endpoints;
        if endpoints.is_empty() {
            return launcher::launch(&self.opts.launch, interrupt);
        }
        let (first, resting) = {
            let mut state = self.state.lock();
            let first = state.next_endpoint % endpoints.len();
            state.next_endpoint = first + 1;
            let now = Instant::now();
            state.resting.retain(|_, until| *until > now);
            (first, state.resting.clone())
        };
        let order: Vec<&String> = (0..endpoints.len())
            .map(|k| &endpoints[(first + k) % endpoints.len()])
            .collect();
        let (fresh, tired): (Vec<&String>, Vec<&String>) =
            order.into_iter().partition(|e| !resting.contains_key(*e));
        let mut last_error = None;
        for endpoint in fresh.into_iter().chain(tired) {
            interrupt.check()?;
            match Browser::connect(endpoint, CONNECT_TIMEOUT) {
                Ok(browser) => {
                    self.state.lock().resting.remove(endpoint);
                    return Ok(browser);
                }
                Err(err) => {
                    log::warn!("remote browser {endpoint} failed ({err}); trying the next one");
                    self.state
                        .lock()
                        .resting
                        .insert(endpoint.clone(), Instant::now() + REST);
                    last_error = Some(err);
                }
            }
        }
        Err(last_error
            .unwrap_or_else(|| Error::InvalidOption("no remote endpoint is configured".into())))
    }

    /// Claims a place for one scrape, launching a browser if none has room.
    fn acquire(&self, interrupt: &dyn Interrupt) -> Result<Lease<'_>> {
        let deadline = Instant::now() + self.opts.acquire_timeout;
        loop {
            let (claim, dead) = self.try_claim(deadline)?;
            close_slots(dead);
            match claim {
                Some(Claim::Ready {
                    slot_id,
                    browser,
                    spare,
                }) => {
                    return Ok(Lease {
                        inner: self,
                        slot_id,
                        browser,
                        spare,
                    })
                }
                Some(Claim::Launch) => return self.launch_slot(interrupt),
                None => {
                    interrupt.check()?;
                    if Instant::now() >= deadline {
                        return Err(Error::Timeout {
                            kind: TimeoutKind::Pool,
                            what: format!(
                                "waiting for room in the pool (all {} places are busy)",
                                self.opts.size
                            ),
                            after: self.opts.acquire_timeout,
                        });
                    }
                }
            }
        }
    }

    /// One look at the pool: a browser with room, the right to launch one, or nothing yet
    /// (after waiting a little for a change). Also hands back dead browsers to close.
    fn try_claim(&self, deadline: Instant) -> Result<(Option<Claim>, Vec<Slot>)> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(Error::BrowserClosed(
                "this pool is closed; create a new BrowserPool".into(),
            ));
        }
        let dead = take_dead(&mut state);
        if state.in_flight < self.opts.size {
            // Remote endpoints are all connected before any is shared, to spread the load.
            let serving = state.slots.iter().filter(|s| s.serves()).count();
            let room_to_open = serving + state.launching < self.max_browsers();
            if room_to_open && !self.opts.remote_endpoints.is_empty() {
                state.launching += 1;
                state.in_flight += 1;
                return Ok((Some(Claim::Launch), dead));
            }
            let max_uses = self.opts.max_uses;
            if let Some(slot) = state
                .slots
                .iter_mut()
                .filter(|s| s.serves() && s.active < CONTEXTS_PER_BROWSER)
                .min_by_key(|s| (s.spares.is_empty(), s.active))
            {
                slot.active += 1;
                slot.opened += 1;
                if slot.opened >= max_uses {
                    slot.retired = true;
                    self.stats.lock().browsers_recycled += 1;
                }
                let claim = Claim::Ready {
                    slot_id: slot.id,
                    browser: slot.browser.clone(),
                    spare: slot.spares.pop(),
                };
                state.in_flight += 1;
                drop(state);
                // Wake the warmer now: the next scrape finds its page ready only if opening it
                // starts while this one runs.
                self.changed.notify_all();
                return Ok((Some(claim), dead));
            }
            if room_to_open {
                state.launching += 1;
                state.in_flight += 1;
                return Ok((Some(Claim::Launch), dead));
            }
        }
        if dead.is_empty() {
            let wake = deadline.min(Instant::now() + WAKE_EVERY);
            self.changed.wait_until(&mut state, wake);
        }
        Ok((None, dead))
    }

    /// Launches a browser for a claimed place and puts it in the pool.
    fn launch_slot(&self, interrupt: &dyn Interrupt) -> Result<Lease<'_>> {
        let launched = self.open_browser(interrupt);
        let mut state = self.state.lock();
        state.launching -= 1;
        let browser = match launched {
            Ok(browser) if !state.closed => browser,
            outcome => {
                state.in_flight -= 1;
                drop(state);
                self.changed.notify_all();
                return match outcome {
                    Ok(browser) => {
                        let _ = browser.close();
                        Err(Error::BrowserClosed(
                            "this pool was closed while a browser started".into(),
                        ))
                    }
                    Err(err) => Err(err),
                };
            }
        };
        let slot_id = state.next_id;
        state.next_id += 1;
        state.slots.push(Slot {
            id: slot_id,
            browser: browser.clone(),
            opened: 1,
            active: 1,
            retired: self.opts.max_uses <= 1,
            spares: Vec::new(),
            warming: false,
        });
        drop(state);
        self.stats.lock().browsers_launched += 1;
        self.changed.notify_all();
        Ok(Lease {
            inner: self,
            slot_id,
            browser,
            spare: None,
        })
    }

    fn release(&self, slot_id: u64) {
        let mut closing = Vec::new();
        {
            let mut state = self.state.lock();
            state.in_flight -= 1;
            if let Some(index) = state.slots.iter().position(|s| s.id == slot_id) {
                let slot = &mut state.slots[index];
                slot.active -= 1;
                if !slot.serves() {
                    slot.retired = true;
                }
                if slot.retired && slot.active == 0 {
                    closing.push(state.slots.remove(index));
                }
            }
        }
        self.changed.notify_all();
        close_slots(closing);
    }

    /// The warmer thread: keeps `SPARE_PAGES` fresh pages ready on every serving browser.
    fn warm(self: Arc<Self>) {
        loop {
            let (slot_id, browser) = {
                let mut state = self.state.lock();
                loop {
                    if state.closed {
                        return;
                    }
                    let next = state
                        .slots
                        .iter_mut()
                        .find(|s| s.serves() && !s.warming && s.spares.len() < SPARE_PAGES);
                    if let Some(slot) = next {
                        slot.warming = true;
                        break (slot.id, slot.browser.clone());
                    }
                    self.changed.wait(&mut state);
                }
            };
            let opened = FreshPage::open(&browser);
            let mut state = self.state.lock();
            let slot = state.slots.iter_mut().find(|s| s.id == slot_id);
            match (slot, opened) {
                (Some(slot), Ok(page)) => {
                    slot.warming = false;
                    if slot.serves() {
                        slot.spares.push(page);
                    }
                }
                (Some(slot), Err(err)) => {
                    slot.warming = false;
                    log::warn!(
                        "could not open a spare page on pid {}: {err}",
                        browser.pid()
                    );
                    browser.mark_unhealthy();
                }
                (None, _) => {}
            }
            drop(state);
            self.changed.notify_all();
        }
    }
}

/// Removes browsers that died, hung or were recycled and have no scrape running.
fn take_dead(state: &mut State) -> Vec<Slot> {
    let mut dead = Vec::new();
    let mut index = 0;
    while index < state.slots.len() {
        let slot = &mut state.slots[index];
        if !slot.serves() {
            slot.retired = true;
        }
        if slot.retired && slot.active == 0 && !slot.warming {
            dead.push(state.slots.remove(index));
        } else {
            index += 1;
        }
    }
    dead
}

fn close_slots(slots: Vec<Slot>) {
    for slot in slots {
        drop(slot.spares);
        if let Err(err) = slot.browser.close() {
            log::warn!("closing a pool browser: {err}");
        }
    }
}
