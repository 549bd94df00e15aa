//! What a launch needs, already resolved by the Python layer (defaults, environment, per-call
//! options), and the Chrome command line built from it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::errors::{Error, Result};
use crate::retry::Backoff;

#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// `None`: discover (see `executable::discover`).
    pub executable: Option<PathBuf>,
    pub headless: bool,
    pub sandbox: bool,
    pub extra_args: Vec<String>,
    pub window_size: Option<(u32, u32)>,
    pub user_agent: Option<String>,
    pub proxy: Option<String>,
    pub launch_retries: u32,
    pub backoff: Backoff,
    pub launch_timeout: Duration,
    pub profile_root: PathBuf,
    pub user_data_dir: Option<PathBuf>,
}

/// Switches that would open a TCP debugging port, bypass the pipe transport or point Chrome at
/// another profile: each would undo an isolation guarantee, so `extra_args` may not carry them.
const RESERVED: [&str; 6] = [
    "--remote-debugging-port",
    "--remote-debugging-address",
    "--remote-debugging-pipe",
    "--remote-debugging-io-pipes",
    "--user-data-dir",
    "--profile-directory",
];

/// Rejects extra arguments that are not switches or that chromeguard must own.
pub fn validate_extra_args(args: &[String]) -> Result<()> {
    for arg in args {
        if !arg.starts_with("--") || arg.len() < 3 {
            return Err(Error::InvalidOption(format!(
                "extra_args entry {arg:?} is not a Chrome switch; pass switches such as \"--lang=en-US\" (URLs go to get())"
            )));
        }
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        if RESERVED.contains(&name) {
            return Err(Error::InvalidOption(format!(
                "extra_args may not contain {name}: chromeguard owns the profile and the DevTools pipe; use user_data_dir= for a persistent profile"
            )));
        }
    }
    Ok(())
}

/// Switches that keep a headless Chrome quiet and fast: no first-run UI, no background
/// network traffic, no throttling of pages that are not in front (several run at once).
const BASE_ARGS: [&str; 17] = [
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--mute-audio",
    // The back/forward cache restores pages without a load event, which back() waits for.
    "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider,BackForwardCache",
];

/// The full command line (without the executable) for one browser.
pub fn chrome_args(opts: &LaunchOptions, user_data_dir: &Path, small_shm: bool) -> Vec<String> {
    let mut args: Vec<String> = BASE_ARGS.iter().map(|a| (*a).to_owned()).collect();
    args.push(format!("--user-data-dir={}", user_data_dir.display()));
    if opts.headless {
        args.push("--headless".into());
        args.push("--hide-scrollbars".into());
    }
    if !opts.sandbox {
        args.push("--no-sandbox".into());
    }
    if small_shm {
        // Docker's default 64 MB /dev/shm makes renderers crash on large pages.
        args.push("--disable-dev-shm-usage".into());
    }
    if let Some((w, h)) = opts.window_size {
        args.push(format!("--window-size={w},{h}"));
    }
    if let Some(ua) = &opts.user_agent {
        args.push(format!("--user-agent={ua}"));
    }
    if let Some(proxy) = &opts.proxy {
        args.push(format!("--proxy-server={proxy}"));
    }
    args.extend(opts.extra_args.iter().cloned());
    args
}

#[cfg(test)]
pub(crate) fn test_options() -> LaunchOptions {
    LaunchOptions {
        executable: None,
        headless: true,
        sandbox: false,
        extra_args: vec![],
        window_size: Some((1280, 720)),
        user_agent: None,
        proxy: None,
        launch_retries: 2,
        backoff: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        },
        launch_timeout: Duration::from_secs(30),
        profile_root: std::env::temp_dir(),
        user_data_dir: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_switches_are_rejected_with_or_without_values() {
        for bad in [
            "--remote-debugging-port=9222",
            "--remote-debugging-port",
            "--user-data-dir=/tmp/x",
            "--profile-directory=Default",
        ] {
            let err = validate_extra_args(&[bad.to_owned()]).unwrap_err();
            assert!(err.to_string().contains("may not contain"), "{err}");
        }
    }

    #[test]
    fn non_switches_are_rejected() {
        for bad in ["http://example.com", "-x", "--", ""] {
            assert!(validate_extra_args(&[bad.to_owned()]).is_err(), "{bad}");
        }
        assert!(validate_extra_args(&["--lang=en-US".to_owned()]).is_ok());
    }

    #[test]
    fn args_follow_the_options() {
        let mut opts = test_options();
        opts.user_agent = Some("UA/1".into());
        opts.proxy = Some("http://127.0.0.1:3128".into());
        opts.extra_args = vec!["--lang=de".into()];
        let args = chrome_args(&opts, Path::new("/p/profile"), true);
        for expected in [
            "--remote-debugging-pipe",
            "--user-data-dir=/p/profile",
            "--headless",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1280,720",
            "--user-agent=UA/1",
            "--proxy-server=http://127.0.0.1:3128",
        ] {
            assert!(args.iter().any(|a| a == expected), "missing {expected}");
        }
        assert_eq!(args.last().map(String::as_str), Some("--lang=de"));
        assert!(!args
            .iter()
            .any(|a| a.starts_with("--remote-debugging-port")));
        opts.sandbox = true;
        opts.headless = false;
        let args = chrome_args(&opts, Path::new("/p"), false);
        assert!(!args
            .iter()
            .any(|a| a == "--no-sandbox" || a == "--headless"));
    }
}
