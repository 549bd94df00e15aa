//! CDP over Chrome's `--remote-debugging-pipe`: requests go to Chrome's fd 3, replies and events
//! come back on its fd 4, each a JSON message ended by a NUL byte. One reader thread per browser
//! routes replies to their callers by id and events to subscribers, so a call costs one write,
//! one read and a channel hand-off (tens of microseconds) instead of the 100-200 ms that a
//! polling websocket transport adds.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Method;
use parking_lot::{Condvar, Mutex};
use serde_json::{json, Value};

use crate::errors::{Error, Result, TimeoutKind};

/// How often a long wait wakes up to ask whether the caller was interrupted.
const WAKE_EVERY: Duration = Duration::from_millis(100);

/// Lets a long wait end early (Ctrl-C in the Python caller).
pub trait Interrupt {
    fn check(&self) -> Result<()>;
}

/// For waits that must not be interrupted (they are short and bounded).
pub struct Uninterruptible;

impl Interrupt for Uninterruptible {
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// A CDP event, with the session it belongs to (None: the browser itself).
#[derive(Debug, Clone)]
pub struct Event {
    pub method: String,
    pub params: Value,
    pub session_id: Option<String>,
}

/// A command's outcome: its result, or Chrome's error code and message.
pub type Reply = std::result::Result<Value, (i64, String)>;

/// What a subscription receives: events of its sessions, and replies to the commands sent
/// through it (so one loop can wait for a reply while handling events that must be answered
/// first, such as paused requests).
#[derive(Debug)]
pub enum Incoming {
    Event(Event),
    Reply { id: u64, reply: Reply },
}

struct Subscriber {
    id: u64,
    sessions: Vec<Option<String>>,
    sender: mpsc::Sender<Incoming>,
}

/// What to do with a reply nobody waits for.
pub type ReplyHandler = Box<dyn FnOnce(Reply) + Send>;

/// Where a reply goes.
enum Waiter {
    Caller(mpsc::Sender<Reply>),
    Subscriber(u64),
    /// Run on the reader thread; must not block.
    Handler(ReplyHandler),
}

#[derive(Default)]
struct State {
    pending: HashMap<u64, Waiter>,
    subscribers: Vec<Subscriber>,
    next_subscriber: u64,
    closed: bool,
}

/// Carries encoded CDP messages to Chrome.
pub trait Sink: Send {
    fn send(&mut self, message: Vec<u8>) -> std::io::Result<()>;
    /// Ends the connection so that the reader sees its end (remote browsers).
    fn shutdown(&mut self) {}
}

/// Yields CDP messages from Chrome; `Ok(false)` at the end.
pub trait Source: Send {
    fn next_message(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool>;
}

/// Chrome's fd 3: messages end with a NUL byte.
struct PipeSink(File);

impl Sink for PipeSink {
    fn send(&mut self, mut message: Vec<u8>) -> std::io::Result<()> {
        message.push(0);
        self.0.write_all(&message)
    }
}

/// Chrome's fd 4.
struct PipeSource(BufReader<File>);

impl Source for PipeSource {
    fn next_message(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        if self.0.read_until(0, buf)? == 0 {
            return Ok(false);
        }
        if buf.last() == Some(&0) {
            buf.pop();
        }
        Ok(true)
    }
}

pub struct Connection {
    writer: Mutex<Box<dyn Sink>>,
    next_id: AtomicU64,
    state: Mutex<State>,
    closed_signal: Condvar,
}

/// Waits on `receiver` until `deadline`, waking up to honour `interrupt`.
/// `Ok(None)` means the deadline passed; a disconnected sender is `BrowserClosed`.
pub fn wait_on<T>(
    receiver: &mpsc::Receiver<T>,
    deadline: Instant,
    interrupt: &dyn Interrupt,
) -> Result<Option<T>> {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        match receiver.recv_timeout((deadline - now).min(WAKE_EVERY)) {
            Ok(value) => return Ok(Some(value)),
            Err(mpsc::RecvTimeoutError::Timeout) => interrupt.check()?,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::BrowserClosed(
                    "Chrome closed the DevTools pipe (it exited or crashed); create a new browser"
                        .into(),
                ))
            }
        }
    }
}

impl Connection {
    /// Starts the reader thread on Chrome's DevTools pipe and returns the connection.
    pub fn start(from_chrome: File, to_chrome: File, label: &str) -> std::io::Result<Arc<Self>> {
        let source = PipeSource(BufReader::with_capacity(64 * 1024, from_chrome));
        Self::over(Box::new(source), Box::new(PipeSink(to_chrome)), label)
    }

    /// Starts the reader thread on any wire (a remote browser's websocket).
    pub fn over(
        source: Box<dyn Source>,
        sink: Box<dyn Sink>,
        label: &str,
    ) -> std::io::Result<Arc<Self>> {
        let conn = Arc::new(Self {
            writer: Mutex::new(sink),
            next_id: AtomicU64::new(1),
            state: Mutex::new(State::default()),
            closed_signal: Condvar::new(),
        });
        let reader = Arc::clone(&conn);
        std::thread::Builder::new()
            .name(format!("chromeguard-cdp-{label}"))
            .spawn(move || reader.read_loop(source))?;
        Ok(conn)
    }

    /// Ends the connection (the reader thread then marks it closed).
    pub fn shutdown(&self) {
        self.writer.lock().shutdown();
    }

    fn read_loop(&self, mut source: Box<dyn Source>) {
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            buf.clear();
            match source.next_message(&mut buf) {
                Ok(false) | Err(_) => break,
                Ok(true) => {}
            }
            match serde_json::from_slice::<Value>(&buf) {
                Ok(message) => self.dispatch(message),
                Err(err) => log::warn!("undecodable CDP message ({err}); skipped"),
            }
        }
        let mut state = self.state.lock();
        state.closed = true;
        state.pending.clear();
        state.subscribers.clear();
        drop(state);
        self.closed_signal.notify_all();
    }

    fn dispatch(&self, mut message: Value) {
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            let reply = match message.get_mut("error") {
                Some(error) => Err((
                    error.get("code").and_then(Value::as_i64).unwrap_or(0),
                    error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                        .to_owned(),
                )),
                None => Ok(message
                    .get_mut("result")
                    .map(Value::take)
                    .unwrap_or(Value::Null)),
            };
            let mut state = self.state.lock();
            match state.pending.remove(&id) {
                Some(Waiter::Caller(sender)) => {
                    let _ = sender.send(reply);
                }
                Some(Waiter::Subscriber(sub_id)) => {
                    if let Some(sub) = state.subscribers.iter().find(|s| s.id == sub_id) {
                        let _ = sub.sender.send(Incoming::Reply { id, reply });
                    }
                }
                Some(Waiter::Handler(handler)) => {
                    drop(state);
                    handler(reply);
                }
                None => {}
            }
            return;
        }
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return;
        };
        let event = Event {
            method: method.to_owned(),
            session_id: message
                .get("sessionId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            params: message
                .get_mut("params")
                .map(Value::take)
                .unwrap_or(Value::Null),
        };
        let mut state = self.state.lock();
        state.subscribers.retain(|sub| {
            !sub.sessions.contains(&event.session_id)
                || sub.sender.send(Incoming::Event(event.clone())).is_ok()
        });
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Waits up to `limit` for Chrome to close the pipe; true if it did.
    pub fn wait_closed(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.state.lock();
        while !state.closed {
            if self
                .closed_signal
                .wait_until(&mut state, deadline)
                .timed_out()
            {
                return state.closed;
            }
        }
        true
    }

    fn encode(id: u64, session_id: Option<&str>, method: &str, params: Value) -> Result<Vec<u8>> {
        let mut message = json!({ "id": id, "method": method });
        if !params.is_null() {
            message["params"] = params;
        }
        if let Some(session) = session_id {
            message["sessionId"] = Value::from(session);
        }
        Ok(serde_json::to_vec(&message)?)
    }

    /// Writes a command whose reply goes to `waiter`; returns its id.
    fn send(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: Value,
        waiter: Waiter,
    ) -> Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let bytes = Self::encode(id, session_id, method, params)?;
        {
            let mut state = self.state.lock();
            if state.closed {
                return Err(Error::BrowserClosed(format!(
                    "cannot send {method}: Chrome has exited; create a new browser"
                )));
            }
            state.pending.insert(id, waiter);
        }
        if let Err(err) = self.writer.lock().send(bytes) {
            self.state.lock().pending.remove(&id);
            return Err(Error::BrowserClosed(format!(
                "cannot send {method}: the DevTools pipe is broken ({err}); create a new browser"
            )));
        }
        Ok(id)
    }

    /// Sends one command and waits for its reply.
    pub fn call(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
        interrupt: &dyn Interrupt,
    ) -> Result<Value> {
        let (sender, receiver) = mpsc::channel();
        let id = self.send(session_id, method, params, Waiter::Caller(sender))?;
        let outcome = wait_on(&receiver, Instant::now() + timeout, interrupt);
        if !matches!(outcome, Ok(Some(_))) {
            self.state.lock().pending.remove(&id);
        }
        match outcome? {
            Some(reply) => reply_result(method, reply),
            None => Err(Error::Timeout {
                kind: TimeoutKind::Operation,
                what: format!("CDP call {method}"),
                after: timeout,
            }),
        }
    }

    /// Sends a command without waiting for it; `on_reply` runs on the reader thread when the
    /// reply comes (not at all if Chrome exits first).
    pub fn send_detached(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: Value,
        on_reply: ReplyHandler,
    ) -> Result<()> {
        self.send(session_id, method, params, Waiter::Handler(on_reply))
            .map(drop)
    }

    /// Sends a command from headless_chrome's typed protocol and decodes its typed reply.
    pub fn call_typed<M>(
        &self,
        session_id: Option<&str>,
        command: M,
        timeout: Duration,
    ) -> Result<M::ReturnObject>
    where
        M: Method + serde::Serialize,
    {
        let params = serde_json::to_value(&command)?;
        let result = self.call(session_id, M::NAME, params, timeout, &Uninterruptible)?;
        Ok(serde_json::from_value(result)?)
    }

    /// Receives every event of `session_id` (None: browser-level events) until dropped.
    pub fn subscribe(self: &Arc<Self>, session_id: Option<&str>) -> Subscription {
        let (sender, receiver) = mpsc::channel();
        let mut state = self.state.lock();
        let id = state.next_subscriber;
        state.next_subscriber += 1;
        if !state.closed {
            state.subscribers.push(Subscriber {
                id,
                sessions: vec![session_id.map(str::to_owned)],
                sender,
            });
        }
        Subscription {
            connection: Arc::clone(self),
            id,
            receiver,
        }
    }
}

/// Converts a reply into the command's result or a `Protocol` error.
pub fn reply_result(method: &str, reply: Reply) -> Result<Value> {
    reply.map_err(|(code, message)| Error::Protocol {
        method: method.to_owned(),
        code,
        message,
    })
}

/// A stream of events (and of replies to commands sent through it); unsubscribes when dropped.
pub struct Subscription {
    connection: Arc<Connection>,
    id: u64,
    receiver: mpsc::Receiver<Incoming>,
}

impl Subscription {
    /// The next event or reply before `deadline` (`Ok(None)`: deadline passed).
    pub fn next_before(
        &self,
        deadline: Instant,
        interrupt: &dyn Interrupt,
    ) -> Result<Option<Incoming>> {
        wait_on(&self.receiver, deadline, interrupt)
    }

    /// Also receives the events of `session_id` (an auto-attached frame or worker).
    pub fn add_session(&self, session_id: &str) {
        let mut state = self.connection.state.lock();
        if let Some(sub) = state.subscribers.iter_mut().find(|s| s.id == self.id) {
            sub.sessions.push(Some(session_id.to_owned()));
        }
    }

    /// Sends a command without waiting; its reply arrives as `Incoming::Reply` with the
    /// returned id.
    pub fn send(&self, session_id: Option<&str>, method: &str, params: Value) -> Result<u64> {
        self.connection
            .send(session_id, method, params, Waiter::Subscriber(self.id))
    }

    /// Feeds everything that arrives to `handler` until it returns true (then `Ok(true)`) or
    /// `deadline` passes (`Ok(false)`).
    pub fn pump(
        &self,
        deadline: Instant,
        interrupt: &dyn Interrupt,
        handler: &mut dyn FnMut(Incoming) -> Result<bool>,
    ) -> Result<bool> {
        loop {
            match self.next_before(deadline, interrupt)? {
                Some(incoming) => {
                    if handler(incoming)? {
                        return Ok(true);
                    }
                }
                None => return Ok(false),
            }
        }
    }

    /// Sends a command and waits for its reply, handing every event that arrives meanwhile to
    /// `on_event` (which may have to answer it before Chrome can reply). `Ok(None)`: the
    /// deadline passed first.
    pub fn call(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: Value,
        deadline: Instant,
        interrupt: &dyn Interrupt,
        on_event: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<Option<Value>> {
        let id = self.send(session_id, method, params)?;
        let mut answer = None;
        let finished = self.pump(deadline, interrupt, &mut |incoming| match incoming {
            Incoming::Reply { id: got, reply } if got == id => {
                answer = Some(reply);
                Ok(true)
            }
            Incoming::Reply { .. } => Ok(false),
            Incoming::Event(event) => on_event(event).map(|()| false),
        })?;
        match (finished, answer) {
            (true, Some(reply)) => reply_result(method, reply).map(Some),
            _ => Ok(None),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.connection
            .state
            .lock()
            .subscribers
            .retain(|sub| sub.id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    fn pipe() -> (File, File) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fresh descriptors that we then own.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    /// A fake Chrome that answers every request with its id and echoes an event first.
    fn fake_chrome() -> Arc<Connection> {
        let (to_chrome_r, to_chrome_w) = pipe();
        let (from_chrome_r, mut from_chrome_w) = pipe();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(to_chrome_r);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).unwrap_or(0) > 0 {
                buf.pop();
                let req: Value = serde_json::from_slice(&buf).unwrap();
                buf.clear();
                let id = req["id"].as_u64().unwrap();
                let session = req.get("sessionId").cloned().unwrap_or(Value::Null);
                let event =
                    json!({"method": "Test.seen", "params": {"id": id}, "sessionId": session});
                let reply = if req["method"] == "Fail.me" {
                    json!({"id": id, "error": {"code": -32000, "message": "nope"}})
                } else if req["method"] == "Never.answer" {
                    continue;
                } else {
                    json!({"id": id, "result": {"echo": req["params"]}})
                };
                for msg in [event, reply] {
                    let mut bytes = serde_json::to_vec(&msg).unwrap();
                    bytes.push(0);
                    from_chrome_w.write_all(&bytes).unwrap();
                }
            }
        });
        Connection::start(from_chrome_r, to_chrome_w, "test").unwrap()
    }

    #[test]
    fn replies_reach_their_callers_and_errors_are_typed() {
        let conn = fake_chrome();
        let t = Duration::from_secs(5);
        let r = conn
            .call(None, "A.b", json!({"x": 1}), t, &Uninterruptible)
            .unwrap();
        assert_eq!(r, json!({"echo": {"x": 1}}));
        let err = conn
            .call(None, "Fail.me", Value::Null, t, &Uninterruptible)
            .unwrap_err();
        assert!(matches!(err, Error::Protocol { code: -32000, .. }), "{err}");
    }

    #[test]
    fn concurrent_callers_get_their_own_replies() {
        let conn = fake_chrome();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let conn = Arc::clone(&conn);
                std::thread::spawn(move || {
                    for j in 0..50 {
                        let r = conn
                            .call(
                                None,
                                "A.b",
                                json!({"n": i * 1000 + j}),
                                Duration::from_secs(5),
                                &Uninterruptible,
                            )
                            .unwrap();
                        assert_eq!(r["echo"]["n"], i * 1000 + j);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn events_are_routed_by_session() {
        let conn = fake_chrome();
        let mine = conn.subscribe(Some("S1"));
        let browser = conn.subscribe(None);
        let t = Duration::from_secs(5);
        conn.call(Some("S1"), "A.b", Value::Null, t, &Uninterruptible)
            .unwrap();
        let deadline = Instant::now() + t;
        let Some(Incoming::Event(event)) = mine.next_before(deadline, &Uninterruptible).unwrap()
        else {
            panic!("expected an event");
        };
        assert_eq!(event.method, "Test.seen");
        assert_eq!(event.session_id.as_deref(), Some("S1"));
        let none = browser
            .next_before(Instant::now() + Duration::from_millis(50), &Uninterruptible)
            .unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn replies_to_commands_sent_through_a_subscription_arrive_in_its_stream() {
        let conn = fake_chrome();
        let stream = conn.subscribe(Some("S2"));
        let id = stream.send(Some("S2"), "A.b", json!({"k": 1})).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen_event = false;
        loop {
            match stream
                .next_before(deadline, &Uninterruptible)
                .unwrap()
                .unwrap()
            {
                Incoming::Event(event) => seen_event |= event.method == "Test.seen",
                Incoming::Reply { id: got, reply } => {
                    assert_eq!(got, id);
                    assert_eq!(reply.unwrap(), json!({"echo": {"k": 1}}));
                    break;
                }
            }
        }
        assert!(seen_event, "the event sent before the reply arrives first");
        stream.add_session("S3");
        stream.send(Some("S3"), "A.b", Value::Null).unwrap();
        let first = stream
            .next_before(deadline, &Uninterruptible)
            .unwrap()
            .unwrap();
        assert!(
            matches!(first, Incoming::Event(Event { ref session_id, .. }) if session_id.as_deref() == Some("S3"))
        );
    }

    #[test]
    fn detached_commands_hand_their_reply_to_the_handler() {
        let conn = fake_chrome();
        let (sender, receiver) = mpsc::channel();
        conn.send_detached(
            None,
            "Fail.me",
            Value::Null,
            Box::new(move |reply| sender.send(reply).unwrap()),
        )
        .unwrap();
        let reply = receiver.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(reply, Err((-32000, "nope".to_owned())));
    }

    #[test]
    fn a_missing_reply_times_out_and_a_closed_pipe_fails_fast() {
        let conn = fake_chrome();
        let err = conn
            .call(
                None,
                "Never.answer",
                Value::Null,
                Duration::from_millis(50),
                &Uninterruptible,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }));

        let (to_chrome_r, to_chrome_w) = pipe();
        let (from_chrome_r, from_chrome_w) = pipe();
        let conn = Connection::start(from_chrome_r, to_chrome_w, "closing").unwrap();
        let start = Instant::now();
        let closer = std::thread::spawn(move || {
            let mut sink = Vec::new();
            let mut r = to_chrome_r;
            let _ = r.read(&mut [0u8; 16]);
            drop(from_chrome_w);
            let _ = r.read_to_end(&mut sink);
        });
        let err = conn
            .call(
                None,
                "A.b",
                Value::Null,
                Duration::from_secs(10),
                &Uninterruptible,
            )
            .unwrap_err();
        assert!(matches!(err, Error::BrowserClosed(_)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(conn.wait_closed(Duration::from_secs(1)));
        drop(conn);
        closer.join().unwrap();
    }
}
