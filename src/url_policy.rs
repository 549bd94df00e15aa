//! Which URLs a scrape may load: checked before any browser work (scheme, shape), and, with
//! `block_private_networks`, on the resolved address of every request the page makes
//! (redirects and subresources included).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use url::{Host, Url};

use crate::errors::{Error, Result};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allow_file_urls: bool,
    pub block_private_networks: bool,
}

impl UrlPolicy {
    /// Parses and checks a URL given by the caller; returns it normalized.
    pub fn check_target(&self, raw: &str) -> Result<Url> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(invalid(raw, "the URL is empty"));
        }
        let url = Url::parse(trimmed).map_err(|err| match err {
            url::ParseError::RelativeUrlWithoutBase => {
                invalid(raw, "it is relative; pass an absolute http(s) URL")
            }
            other => invalid(raw, &format!("it is malformed ({other})")),
        })?;
        match url.scheme() {
            "http" | "https" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(invalid(raw, "it has no host"));
                }
            }
            "file" if self.allow_file_urls => {}
            "file" => {
                return Err(invalid(
                    raw,
                    "file: URLs are refused unless allow_file_urls=True",
                ))
            }
            other => {
                return Err(invalid(
                    raw,
                    &format!("the {other}: scheme is not allowed; only http and https are"),
                ))
            }
        }
        if self.block_private_networks {
            self.check_request(&url)?;
        }
        Ok(url)
    }

    /// The check applied to every request of a page when `block_private_networks` is on:
    /// the host must resolve only to public addresses.
    pub fn check_request(&self, url: &Url) -> Result<()> {
        if !self.block_private_networks || !matches!(url.scheme(), "http" | "https" | "ws" | "wss")
        {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses: Vec<IpAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(Host::Domain(name)) => (name, port)
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a| a.ip()).collect())
                // Unresolvable hosts are left to Chrome, which reports its own net::ERR_*.
                .unwrap_or_default(),
            None => Vec::new(),
        };
        match addresses.into_iter().find(|ip| is_private(*ip)) {
            Some(ip) => Err(invalid(
                url.as_str(),
                &format!("its host resolves to the non-public address {ip} and block_private_networks is on"),
            )),
            None => Ok(()),
        }
    }
}

fn invalid(raw: &str, why: &str) -> Error {
    let shown: String = raw.chars().take(200).collect();
    Error::InvalidUrl(format!("cannot scrape {shown:?}: {why}"))
}

/// Loopback, private, link-local, CGNAT, unspecified, multicast, documentation and cloud
/// metadata addresses: nothing a public web page should make a scraper reach.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_v4(v4),
            None => is_private_v6(v6),
        },
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0xfd00 && ip.segments()[1] == 0x0ec2)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: UrlPolicy = UrlPolicy {
        allow_file_urls: false,
        block_private_networks: false,
    };
    const STRICT: UrlPolicy = UrlPolicy {
        allow_file_urls: false,
        block_private_networks: true,
    };

    #[test]
    fn http_and_https_pass_and_are_normalized() {
        assert_eq!(
            DEFAULT
                .check_target(" HTTP://Example.com/a b")
                .unwrap()
                .as_str(),
            "http://example.com/a%20b"
        );
        assert!(DEFAULT.check_target("https://127.0.0.1:8080/x?y=1").is_ok());
    }

    #[test]
    fn every_bad_input_class_is_refused() {
        for bad in [
            "",
            "   ",
            "/relative/path",
            "example.com/no-scheme",
            "http://",
            "http://exa mple.com/",
            "http://[::1/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "chrome://settings",
            "about:blank",
            "ftp://example.com/f",
            "ws://example.com/",
            "mailto:a@b.c",
        ] {
            let err = DEFAULT.check_target(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn file_urls_need_the_opt_in() {
        let open = UrlPolicy {
            allow_file_urls: true,
            ..DEFAULT
        };
        assert!(open.check_target("file:///tmp/x.html").is_ok());
        assert!(DEFAULT
            .check_target("file:///tmp/x.html")
            .unwrap_err()
            .to_string()
            .contains("allow_file_urls"));
    }

    #[test]
    fn private_networks_are_blocked_by_address_and_by_name() {
        for bad in [
            "http://127.0.0.1/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://localhost:8080/",
        ] {
            assert!(STRICT.check_target(bad).is_err(), "{bad}");
        }
        assert!(STRICT.check_target("http://93.184.216.34/").is_ok());
        assert!(STRICT.check_target("http://[2606:2800:220:1::]/").is_ok());
    }

    fn assert_web_url(raw: &str) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        if let Ok(url) = DEFAULT.check_target(raw) {
            proptest::prop_assert!(matches!(url.scheme(), "http" | "https"), "{raw:?} -> {url}");
            proptest::prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_refused_or_an_http_url(raw in ".{0,200}") {
            assert_web_url(&raw)?;
        }

        #[test]
        fn url_shaped_text_is_refused_or_an_http_url(
            scheme in "(http|https|HTTP|ftp|file|javascript|data|chrome|about|ws|blob)",
            separator in "(:|://|:/|:///)",
            rest in "[a-zA-Z0-9./:@%?#\\[\\] _-]{0,60}",
        ) {
            assert_web_url(&format!("{scheme}{separator}{rest}"))?;
        }
    }

    #[test]
    fn classification_of_addresses() {
        assert!(is_private("127.0.0.53".parse().unwrap()));
        assert!(is_private("fe80::1".parse().unwrap()));
        assert!(!is_private("8.8.8.8".parse().unwrap()));
        assert!(!is_private("2001:4860:4860::8888".parse().unwrap()));
    }
}
