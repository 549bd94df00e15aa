//! Keeps the last few kilobytes of what Chrome printed on stderr: the real cause of a failed
//! start ("Running as root without --no-sandbox", a missing library) is there. The pipe is
//! drained for the browser's whole life so Chrome never blocks on a full pipe; its end of file
//! also tells that every process holding it (Chrome and all its helpers) has exited.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

const KEEP_BYTES: usize = 8 * 1024;

#[derive(Default)]
struct Tail {
    text: String,
    ended: bool,
}

#[derive(Clone, Default)]
pub struct StderrTail {
    shared: Arc<(Mutex<Tail>, Condvar)>,
}

impl StderrTail {
    /// Starts draining `stream` on its own thread.
    pub fn capture(stream: impl Read + Send + 'static, pid: u32) -> Self {
        let tail = Self::default();
        let writer = tail.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("chromeguard-stderr-{pid}"))
            .spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                    let text = String::from_utf8_lossy(&line);
                    log::debug!(target: "chromeguard::chrome", "[{pid}] {}", text.trim_end());
                    writer.push(&text);
                    line.clear();
                }
                writer.finish();
            });
        if spawned.is_err() {
            tail.finish();
        }
        tail
    }

    fn push(&self, text: &str) {
        let mut tail = self.shared.0.lock();
        tail.text.push_str(text);
        if tail.text.len() > KEEP_BYTES {
            let mut cut = tail.text.len() - KEEP_BYTES;
            while !tail.text.is_char_boundary(cut) {
                cut += 1;
            }
            tail.text.drain(..cut);
        }
    }

    fn finish(&self) {
        self.shared.0.lock().ended = true;
        self.shared.1.notify_all();
    }

    /// Waits up to `limit` for every writer of the pipe to exit; true if they all did.
    pub fn wait_ended(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut tail = self.shared.0.lock();
        while !tail.ended {
            if self.shared.1.wait_until(&mut tail, deadline).timed_out() {
                break;
            }
        }
        tail.ended
    }

    pub fn text(&self) -> String {
        self.shared.0.lock().text.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail_and_signals_the_end() {
        let big: Vec<u8> = (0..20_000)
            .map(|i| b'a' + (i % 26) as u8)
            .chain(*b"\nLAST LINE\n")
            .collect();
        let tail = StderrTail::capture(std::io::Cursor::new(big), 1);
        assert!(tail.wait_ended(Duration::from_secs(5)));
        let text = tail.text();
        assert!(text.len() <= KEEP_BYTES);
        assert!(text.ends_with("LAST LINE\n"));
    }
}
