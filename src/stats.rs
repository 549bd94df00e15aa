//! Process-wide counters behind `chromeguard.stats()`.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// One counter per field; read with `snapshot`.
        #[derive(Default)]
        pub struct Stats { $(pub $name: AtomicU64,)* }

        impl Stats {
            /// Every counter with its name, in declaration order.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name.load(Ordering::Relaxed)),)*]
            }
        }

        pub static STATS: Stats = Stats { $($name: AtomicU64::new(0),)* };
    };
}

counters!(
    launches,
    launch_attempts,
    launch_failures,
    retries,
    active_browsers,
    browsers_closed,
    profiles_removed,
    stale_profiles_removed,
);

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub fn drop_one(counter: &AtomicU64) {
    counter.fetch_sub(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_every_counter() {
        let names: Vec<_> = STATS.snapshot().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"launches"));
        assert!(names.contains(&"stale_profiles_removed"));
        let before = STATS.retries.load(Ordering::Relaxed);
        bump(&STATS.retries);
        assert!(STATS.retries.load(Ordering::Relaxed) > before);
    }
}
