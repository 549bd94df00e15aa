//! The process-wide launch mutex. Only the launch critical section (spawn until DevTools
//! answers) is serialized: Chrome start-up contends for the same CPU, /dev/shm and profile
//! bookkeeping, and serializing it is what the users' `threading.Lock` did, minus holding it
//! for the browser's whole life. Browsers run concurrently once launched.

use once_cell::sync::Lazy;
use parking_lot::Mutex;

static LAUNCH_LOCK: Lazy<Mutex<()>> = Lazy::new(|| Mutex::new(()));

/// Runs `f` while holding the launch mutex. Callers take it with the GIL released.
pub fn with_launch_lock<T>(f: impl FnOnce() -> T) -> T {
    let _guard = LAUNCH_LOCK.lock();
    f()
}

/// After fork() the child has only the forking thread: a lock held by any other thread of the
/// parent would stay locked forever.
pub fn reset_after_fork() {
    if LAUNCH_LOCK.is_locked() {
        // SAFETY: the thread that held the lock does not exist in this (forked) process.
        unsafe { LAUNCH_LOCK.force_unlock() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn launches_never_overlap() {
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let inside = Arc::clone(&inside);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        with_launch_lock(|| {
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            std::thread::yield_now();
                            inside.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
