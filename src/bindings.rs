//! The Python boundary: converts arguments in, results and errors out, and releases the GIL
//! around everything that blocks. No logic lives here.

use std::path::PathBuf;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::browser::{self, Browser};
use crate::downloads::DEFAULT_EXTENSIONS;
use crate::errors::{Error, TimeoutKind};
use crate::launcher;
use crate::options::LaunchOptions;
use crate::page::{Navigated, WaitUntil};
use crate::pool::{Pool, PoolOptions};
use crate::retry::Backoff;
use crate::scrape::ScrapeOptions;
use crate::stats::STATS;
use crate::transport::Interrupt;
use crate::url_policy::UrlPolicy;
use crate::{executable, launch_lock, log_bridge};

/// Lets a wait running without the GIL notice Ctrl-C: it briefly re-attaches to run Python's
/// signal handlers and keeps the exception they raise for the caller.
struct SignalCheck {
    raised: Mutex<Option<PyErr>>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Interrupt for SignalCheck {
    fn check(&self) -> crate::errors::Result<()> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
        {
            return Err(Error::Cancelled);
        }
        Python::attach(|py| py.check_signals()).map_err(|err| {
            *self.raised.lock() = Some(err);
            Error::Interrupted
        })
    }
}

/// Lets Python cancel a blocking call running in another thread (an asyncio task that was
/// cancelled): the call notices within 100 ms, stops and releases what it held.
#[pyclass(module = "chromeguard._native", name = "CancelToken", frozen)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> Self {
        Self {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    #[getter]
    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl SignalCheck {
    fn into_py_err(self, py: Python<'_>, err: Error) -> PyErr {
        match (err, self.raised.into_inner()) {
            (Error::Interrupted, Some(raised)) => raised,
            (err, _) => to_py_err(py, err),
        }
    }
}

/// Instantiates the exception class `name` of `chromeguard.errors` with keyword fields.
fn python_error(
    py: Python<'_>,
    name: &str,
    message: String,
    fields: &[(&str, Py<PyAny>)],
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("chromeguard.errors")?.getattr(name)?;
        let kwargs = PyDict::new(py);
        for (key, value) in fields {
            kwargs.set_item(key, value)?;
        }
        Ok(PyErr::from_value(class.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|err| err)
}

fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    let message = err.to_string();
    let obj = |value: &str| -> Py<PyAny> { value.into_pyobject(py).unwrap().into_any().unbind() };
    match err {
        Error::Launch {
            reason,
            attempts,
            stderr_tail,
            ..
        } => python_error(
            py,
            "BrowserLaunchError",
            message,
            &[
                ("reason", obj(reason.as_str())),
                (
                    "attempts",
                    attempts.into_pyobject(py).unwrap().into_any().unbind(),
                ),
                ("stderr_tail", obj(&stderr_tail)),
            ],
        ),
        Error::InvalidOption(_) => python_error(py, "ConfigError", message, &[]),
        Error::InvalidUrl(_) => python_error(py, "InvalidUrlError", message, &[]),
        Error::BrowserClosed(_) => python_error(py, "BrowserClosedError", message, &[]),
        Error::NoPage(_) => python_error(py, "NoSuchWindowException", message, &[]),
        Error::Navigation {
            ref url,
            ref error_text,
        } => {
            let fields = [("url", obj(url)), ("error_text", obj(error_text))];
            python_error(py, "NavigationError", message, &fields)
        }
        Error::Timeout { kind, .. } => {
            let class = match kind {
                TimeoutKind::Operation => "OperationTimeout",
                TimeoutKind::Navigation => "NavigationTimeout",
                TimeoutKind::Scrape => "ScrapeTimeout",
                TimeoutKind::Pool => "PoolTimeout",
            };
            python_error(py, class, message, &[])
        }
        Error::Javascript(_) => python_error(py, "JavascriptError", message, &[]),
        Error::Protocol {
            ref method, code, ..
        } => {
            let fields = [
                ("method", obj(method)),
                ("code", code.into_pyobject(py).unwrap().into_any().unbind()),
            ];
            python_error(py, "ProtocolError", message, &fields)
        }
        Error::Interrupted => pyo3::exceptions::PyKeyboardInterrupt::new_err(message),
        Error::Cancelled => python_error(py, "OperationCancelled", message, &[]),
        Error::Io(_) => python_error(py, "ChromeGuardError", message, &[]),
    }
}

/// Runs `work` without the GIL, interruptible by signals, and converts its error.
fn blocking<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&dyn Interrupt) -> crate::errors::Result<T> + Send,
) -> PyResult<T> {
    cancellable(py, None, work)
}

/// `blocking`, also ended by `cancel`.
fn cancellable<T: Send>(
    py: Python<'_>,
    cancel: Option<&CancelToken>,
    work: impl FnOnce(&dyn Interrupt) -> crate::errors::Result<T> + Send,
) -> PyResult<T> {
    let check = SignalCheck {
        raised: Mutex::new(None),
        cancel: cancel.map(|token| Arc::clone(&token.flag)),
    };
    let outcome = py.detach(|| work(&check));
    outcome.map_err(|err| check.into_py_err(py, err))
}

fn seconds(value: f64, name: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a non-negative number of seconds, not {value}"
        ))
    })
}

fn json_text(value: &Value) -> String {
    value.to_string()
}

fn parse_params(params: &str) -> PyResult<Value> {
    serde_json::from_str(params)
        .map_err(|err| PyValueError::new_err(format!("CDP parameters are not valid JSON: {err}")))
}

/// A running Chrome, owned by the native core. Wrapped by `chromeguard.Browser`.
#[pyclass(module = "chromeguard._native", name = "NativeBrowser", frozen)]
pub struct NativeBrowser {
    browser: Browser,
}

#[pymethods]
impl NativeBrowser {
    #[getter]
    fn pid(&self) -> u32 {
        self.browser.pid()
    }

    #[getter]
    fn version(&self) -> &str {
        self.browser.version()
    }

    #[getter]
    fn profile_dir(&self) -> String {
        self.browser.profile_dir().to_string_lossy().into_owned()
    }

    #[getter]
    fn user_data_dir(&self) -> String {
        self.browser.user_data_dir().to_string_lossy().into_owned()
    }

    #[getter]
    fn executable(&self) -> String {
        self.browser.executable().to_string_lossy().into_owned()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.browser.is_closed()
    }

    fn is_alive(&self) -> bool {
        self.browser.is_alive()
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let browser = &self.browser;
        blocking(py, |_| browser.close())
    }

    #[pyo3(signature = (url, wait_until, timeout, cancel = None))]
    fn navigate(
        &self,
        py: Python<'_>,
        url: &str,
        wait_until: &str,
        timeout: f64,
        cancel: Option<&CancelToken>,
    ) -> PyResult<&'static str> {
        let wait_until = WaitUntil::parse(wait_until).map_err(|e| to_py_err(py, e))?;
        let timeout = seconds(timeout, "timeout")?;
        let browser = &self.browser;
        let outcome = cancellable(py, cancel, |interrupt| {
            browser
                .page()?
                .navigate(url, wait_until, timeout, interrupt)
        })?;
        Ok(match outcome {
            Navigated::Loaded => "loaded",
            Navigated::SameDocument => "same_document",
            Navigated::Aborted => "aborted",
        })
    }

    /// Reloads the page and waits for it.
    fn reload(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let timeout = seconds(timeout, "timeout")?;
        let browser = &self.browser;
        blocking(py, |interrupt| {
            browser
                .page()?
                .command_then_load("Page.reload", Value::Null, timeout, interrupt)
        })
    }

    /// Moves `delta` entries through the history and waits for the page.
    fn go_history(&self, py: Python<'_>, delta: i64, timeout: f64) -> PyResult<()> {
        let timeout = seconds(timeout, "timeout")?;
        let browser = &self.browser;
        blocking(py, |interrupt| {
            browser.page()?.go_history(delta, timeout, interrupt)
        })
    }

    /// The ids of the browser's pages.
    fn page_ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let browser = &self.browser;
        blocking(py, |_| browser.page_ids())
    }

    /// The id of the current page, or None after it was closed.
    fn current_page_id(&self, py: Python<'_>) -> PyResult<Option<String>> {
        match self.browser.page() {
            Ok(page) => Ok(Some(page.target_id.clone())),
            Err(Error::NoPage(_)) => Ok(None),
            Err(err) => Err(to_py_err(py, err)),
        }
    }

    fn switch_page(&self, py: Python<'_>, target_id: &str) -> PyResult<()> {
        let browser = &self.browser;
        blocking(py, |_| browser.switch_page(target_id))
    }

    fn close_page(&self, py: Python<'_>) -> PyResult<()> {
        let browser = &self.browser;
        blocking(py, |_| browser.close_page())
    }

    #[pyo3(signature = (expression, await_promise, timeout, cancel = None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        expression: &str,
        await_promise: bool,
        timeout: f64,
        cancel: Option<&CancelToken>,
    ) -> PyResult<String> {
        let timeout = seconds(timeout, "timeout")?;
        let browser = &self.browser;
        cancellable(py, cancel, |interrupt| {
            let value = browser
                .page()?
                .evaluate(expression, await_promise, timeout, interrupt)?;
            Ok(json_text(&value))
        })
    }

    /// A raw CDP command, on the page's session (`page=True`) or the browser's.
    #[pyo3(signature = (method, params, timeout, page = true))]
    fn command(
        &self,
        py: Python<'_>,
        method: &str,
        params: &str,
        timeout: f64,
        page: bool,
    ) -> PyResult<String> {
        let params = parse_params(params)?;
        let timeout = seconds(timeout, "timeout")?;
        let browser = &self.browser;
        blocking(py, |interrupt| {
            let value = if page {
                browser
                    .page()?
                    .command_with(method, params, timeout, interrupt)?
            } else {
                browser
                    .connection()?
                    .call(None, method, params, timeout, interrupt)?
            };
            Ok(json_text(&value))
        })
    }
}

/// Launch options as the Python layer resolves them (a dict with one item per field).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct LaunchArgs {
    executable_path: Option<PathBuf>,
    headless: bool,
    sandbox: bool,
    extra_args: Vec<String>,
    window_size: Option<(u32, u32)>,
    user_agent: Option<String>,
    proxy: Option<String>,
    launch_retries: u32,
    backoff_initial: f64,
    backoff_max: f64,
    launch_timeout: f64,
    profile_root: PathBuf,
    user_data_dir: Option<PathBuf>,
}

impl LaunchArgs {
    fn into_options(self) -> PyResult<LaunchOptions> {
        Ok(LaunchOptions {
            executable: self.executable_path,
            headless: self.headless,
            sandbox: self.sandbox,
            extra_args: self.extra_args,
            window_size: self.window_size,
            user_agent: self.user_agent,
            proxy: self.proxy,
            launch_retries: self.launch_retries,
            backoff: Backoff {
                initial: seconds(self.backoff_initial, "backoff_initial")?,
                max: seconds(self.backoff_max, "backoff_max")?,
            },
            launch_timeout: seconds(self.launch_timeout, "launch_timeout")?,
            profile_root: self.profile_root,
            user_data_dir: self.user_data_dir,
        })
    }
}

#[pyfunction]
#[pyo3(signature = (options, cancel = None))]
fn launch(
    py: Python<'_>,
    options: LaunchArgs,
    cancel: Option<&CancelToken>,
) -> PyResult<NativeBrowser> {
    let options = options.into_options()?;
    let browser = cancellable(py, cancel, |interrupt| {
        launcher::launch(&options, interrupt)
    })?;
    Ok(NativeBrowser { browser })
}

/// Scrape options as the Python layer validated them (a dict with one item per field).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct ScrapeArgs {
    wait_until: String,
    wait_for: Option<String>,
    timeout: f64,
    settle: f64,
    resolve: bool,
    include_html: bool,
    extensions: Option<Vec<String>>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    cookies_json: String,
    init_script: Option<String>,
    allow_file_urls: bool,
    block_private_networks: bool,
}

impl ScrapeArgs {
    fn into_options(self, py: Python<'_>) -> PyResult<ScrapeOptions> {
        Ok(ScrapeOptions {
            wait_until: WaitUntil::parse(&self.wait_until).map_err(|e| to_py_err(py, e))?,
            wait_for: self.wait_for,
            timeout: seconds(self.timeout, "timeout")?,
            settle: seconds(self.settle, "settle")?,
            resolve: self.resolve,
            include_html: self.include_html,
            extensions: self
                .extensions
                .unwrap_or_else(|| DEFAULT_EXTENSIONS.iter().map(|e| (*e).to_owned()).collect()),
            headers: self.headers,
            user_agent: self.user_agent,
            cookies: match parse_params(&self.cookies_json)? {
                Value::Array(cookies) => cookies,
                _ => return Err(PyValueError::new_err("cookies must be a JSON list")),
            },
            init_script: self.init_script,
            policy: UrlPolicy {
                allow_file_urls: self.allow_file_urls,
                block_private_networks: self.block_private_networks,
            },
        })
    }
}

/// A pool of warm browsers serving scrapes. Wrapped by `chromeguard.BrowserPool`.
#[pyclass(module = "chromeguard._native", name = "NativePool", frozen)]
pub struct NativePool {
    pool: Pool,
}

#[pymethods]
impl NativePool {
    #[new]
    #[pyo3(signature = (launch, size, max_uses, acquire_timeout, remote_endpoints = Vec::new()))]
    fn new(
        py: Python<'_>,
        launch: LaunchArgs,
        size: usize,
        max_uses: u32,
        acquire_timeout: f64,
        remote_endpoints: Vec<String>,
    ) -> PyResult<Self> {
        for endpoint in &remote_endpoints {
            crate::remote::check_endpoint(endpoint).map_err(|e| to_py_err(py, e))?;
        }
        if size == 0 || max_uses == 0 {
            return Err(PyValueError::new_err(
                "size and max_uses must be at least 1",
            ));
        }
        Ok(Self {
            pool: Pool::new(PoolOptions {
                launch: launch.into_options()?,
                size,
                max_uses,
                acquire_timeout: seconds(acquire_timeout, "acquire_timeout")?,
                remote_endpoints,
            }),
        })
    }

    /// Scrapes `url`; returns the result as JSON text.
    #[pyo3(signature = (url, options, cancel = None))]
    fn scrape(
        &self,
        py: Python<'_>,
        url: &str,
        options: ScrapeArgs,
        cancel: Option<&CancelToken>,
    ) -> PyResult<String> {
        let options = options.into_options(py)?;
        let target = options
            .policy
            .check_target(url)
            .map_err(|e| to_py_err(py, e))?;
        let pool = &self.pool;
        cancellable(py, cancel, |interrupt| {
            let outcome = pool.scrape(&target, &options, interrupt)?;
            Ok(serde_json::to_string(&outcome)?)
        })
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = serde_json::to_value(self.pool.stats())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let dict = PyDict::new(py);
        for (key, value) in stats.as_object().into_iter().flatten() {
            dict.set_item(key, value.as_u64())?;
        }
        Ok(dict)
    }

    fn close(&self, py: Python<'_>) {
        let pool = &self.pool;
        py.detach(|| pool.close());
    }
}

/// Checks a URL against the policy without scraping it; returns it normalized.
#[pyfunction]
fn check_url(
    py: Python<'_>,
    url: &str,
    allow_file_urls: bool,
    block_private_networks: bool,
) -> PyResult<String> {
    let policy = UrlPolicy {
        allow_file_urls,
        block_private_networks,
    };
    py.detach(|| policy.check_target(url))
        .map(|u| u.to_string())
        .map_err(|e| to_py_err(py, e))
}

/// Raises ConfigError unless `endpoint` is a usable remote browser endpoint.
#[pyfunction]
fn check_remote_endpoint(py: Python<'_>, endpoint: &str) -> PyResult<()> {
    crate::remote::check_endpoint(endpoint)
        .map(drop)
        .map_err(|e| to_py_err(py, e))
}

#[pyfunction]
fn check_extra_args(py: Python<'_>, extra_args: Vec<String>) -> PyResult<()> {
    crate::options::validate_extra_args(&extra_args).map_err(|e| to_py_err(py, e))
}

#[pyfunction]
fn stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in STATS.snapshot() {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

#[pyfunction]
fn cleanup_stale_profiles(py: Python<'_>, profile_root: PathBuf) -> usize {
    py.detach(|| launcher::cleanup_stale_profiles(&profile_root))
}

/// Profile directories under `profile_root` whose owner is gone (what cleanup would remove).
#[pyfunction]
fn find_stale_profiles(py: Python<'_>, profile_root: PathBuf) -> Vec<String> {
    py.detach(|| {
        crate::profile::find_stale(&profile_root)
            .into_iter()
            .map(|stale| stale.dir.to_string_lossy().into_owned())
            .collect()
    })
}

#[pyfunction]
fn find_chrome(headless: bool) -> Option<String> {
    executable::discover(headless).map(|path| path.to_string_lossy().into_owned())
}

#[pyfunction]
fn close_all(py: Python<'_>) -> usize {
    py.detach(browser::close_all)
}

#[pyfunction]
fn after_fork_in_child() {
    launch_lock::reset_after_fork();
    log_bridge::reset_after_fork();
}

#[pyfunction]
fn log_wake_fd() -> PyResult<i32> {
    Ok(log_bridge::wake_pipe()?)
}

#[pyfunction]
fn drain_logs() -> (Vec<log_bridge::Entry>, u64) {
    log_bridge::drain()
}

#[pyfunction]
fn set_log_level(level: u32) {
    log_bridge::set_level(level);
}

#[pymodule]
#[pyo3(name = "_native")]
mod native {
    #[pymodule_export]
    use super::{
        after_fork_in_child, check_extra_args, check_remote_endpoint, check_url,
        cleanup_stale_profiles, close_all, drain_logs, find_chrome, find_stale_profiles, launch,
        log_wake_fd, set_log_level, stats, CancelToken, NativeBrowser, NativePool,
    };
    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add(
            "build_profile",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        )?;
        m.add(
            "DEFAULT_EXTENSIONS",
            crate::downloads::DEFAULT_EXTENSIONS.to_vec(),
        )?;
        crate::log_bridge::install();
        Ok(())
    }
}
