//! Remote browsers: a Chrome started elsewhere with `--remote-debugging-port`, browserless, or
//! Selenium Grid 4's CDP endpoint. An endpoint is a `ws://` DevTools URL or an `http://host:port`
//! resolved through `/json/version`. The websocket is split into a reading and a writing half
//! over one TCP stream, so the reader thread never holds a lock a caller waits for (the cause of
//! headless_chrome's 100-200 ms per call).

use std::io;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::Message;
use url::Url;

use crate::errors::{Error, LaunchFailure, Result};
use crate::transport::{Sink, Source};

/// Checks the shape of an endpoint given in the configuration.
pub fn check_endpoint(endpoint: &str) -> Result<Url> {
    let url = Url::parse(endpoint).map_err(|err| {
        Error::InvalidOption(format!("remote endpoint {endpoint:?} is not a URL ({err})"))
    })?;
    match url.scheme() {
        "ws" | "http" if url.host_str().is_some() => Ok(url),
        "wss" | "https" => Err(Error::InvalidOption(format!(
            "remote endpoint {endpoint:?}: TLS endpoints are not supported; use ws:// or http:// (inside a private network or a TLS-terminating proxy)"
        ))),
        _ => Err(Error::InvalidOption(format!(
            "remote endpoint {endpoint:?} must be ws://host:port/... or http://host:port"
        ))),
    }
}

fn unreachable(endpoint: &str, why: impl std::fmt::Display) -> Error {
    Error::Launch {
        reason: LaunchFailure::Unknown,
        message: format!("remote browser {endpoint} is unreachable: {why}"),
        attempts: 1,
        stderr_tail: String::new(),
    }
}

/// The DevTools websocket URL of an endpoint.
fn websocket_url(endpoint: &Url, timeout: Duration) -> Result<Url> {
    if endpoint.scheme() == "ws" {
        return Ok(endpoint.clone());
    }
    let version = endpoint
        .join("/json/version")
        .map_err(|err| unreachable(endpoint.as_str(), err))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    let body = agent
        .get(version.as_str())
        .call()
        .and_then(|mut response| response.body_mut().read_to_string())
        .map_err(|err| unreachable(endpoint.as_str(), err))?;
    let info: serde_json::Value =
        serde_json::from_str(&body).map_err(|err| unreachable(endpoint.as_str(), err))?;
    let found = info["webSocketDebuggerUrl"].as_str().ok_or_else(|| {
        unreachable(
            endpoint.as_str(),
            "no webSocketDebuggerUrl in /json/version",
        )
    })?;
    Url::parse(found).map_err(|err| unreachable(endpoint.as_str(), err))
}

struct WsSink(WebSocket<TcpStream>);

impl Sink for WsSink {
    fn send(&mut self, message: Vec<u8>) -> io::Result<()> {
        let text = String::from_utf8(message).map_err(io::Error::other)?;
        self.0.send(Message::text(text)).map_err(io::Error::other)
    }

    fn shutdown(&mut self) {
        let _ = self.0.get_mut().shutdown(Shutdown::Both);
    }
}

struct WsSource(WebSocket<TcpStream>);

impl Source for WsSource {
    fn next_message(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        loop {
            match self.0.read() {
                Ok(Message::Text(text)) => {
                    buf.extend_from_slice(text.as_bytes());
                    return Ok(true);
                }
                Ok(Message::Binary(data)) => {
                    buf.extend_from_slice(&data);
                    return Ok(true);
                }
                Ok(Message::Close(_)) => return Ok(false),
                Ok(_) => continue,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return Ok(false)
                }
                Err(err) => return Err(io::Error::other(err)),
            }
        }
    }
}

/// A connected remote browser: the two halves of its websocket, and its URL.
pub struct Wire {
    pub source: Box<dyn Source>,
    pub sink: Box<dyn Sink>,
    pub ws_url: String,
}

/// Connects to a remote browser.
pub fn connect(endpoint: &str, timeout: Duration) -> Result<Wire> {
    let url = check_endpoint(endpoint)?;
    let ws_url = websocket_url(&url, timeout)?;
    let host = ws_url.host_str().unwrap_or_default();
    let port = ws_url.port_or_known_default().unwrap_or(80);
    let address = (host, port)
        .to_socket_addrs()
        .map_err(|err| unreachable(endpoint, err))?
        .next()
        .ok_or_else(|| unreachable(endpoint, "no address"))?;
    let stream =
        TcpStream::connect_timeout(&address, timeout).map_err(|err| unreachable(endpoint, err))?;
    stream
        .set_nodelay(true)
        .map_err(|err| unreachable(endpoint, err))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|err| unreachable(endpoint, err))?;
    let reading = stream
        .try_clone()
        .map_err(|err| unreachable(endpoint, err))?;
    let (socket, _) = tungstenite::client::client(ws_url.as_str(), stream)
        .map_err(|err| unreachable(endpoint, err))?;
    // The handshake is done: reads may now block for as long as the browser is idle.
    socket
        .get_ref()
        .set_read_timeout(None)
        .map_err(|err| unreachable(endpoint, err))?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(256 << 20))
        .max_frame_size(Some(256 << 20));
    let reader = WebSocket::from_raw_socket(reading, Role::Client, Some(config));
    Ok(Wire {
        source: Box::new(WsSource(reader)),
        sink: Box::new(WsSink(socket)),
        ws_url: ws_url.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        assert!(check_endpoint("ws://127.0.0.1:9222/devtools/browser/x").is_ok());
        assert!(check_endpoint("http://grid:4444").is_ok());
        for bad in ["wss://x/", "https://x", "ftp://x", "127.0.0.1:9222", ""] {
            assert!(
                matches!(check_endpoint(bad), Err(Error::InvalidOption(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_unreachable_endpoint_is_a_launch_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = connect(&format!("ws://127.0.0.1:{port}/x"), Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(matches!(err, Error::Launch { .. }), "{err}");
    }
}
