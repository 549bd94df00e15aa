//! chromeguard's native core: isolated, serialized, retried Chrome launches over a pipe-based
//! CDP transport, with deterministic clean-up. Everything but `bindings` is plain Rust.

pub mod bindings;
pub mod browser;
pub mod context;
pub mod downloads;
pub mod errors;
pub mod executable;
pub mod launch_lock;
pub mod launcher;
pub mod log_bridge;
pub mod options;
pub mod page;
pub mod pool;
pub mod process;
pub mod profile;
pub mod remote;
pub mod resolve;
pub mod retry;
pub mod scrape;
pub mod singleton_lock;
pub mod spawner;
pub mod stats;
pub mod stderr_tail;
pub mod transport;
pub mod url_policy;
