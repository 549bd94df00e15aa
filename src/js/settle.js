// Resolves true once the page has no timer due within the settle time, no request in flight
// and no DOM change for `quietMs`; false when the settle time is up first.
((maxMs, quietMs) => new Promise((resolve) => {
  const state = window.__chromeguard;
  if (!state) { resolve(false); return; }
  const end = performance.now() + maxMs;
  const check = () => {
    const now = performance.now();
    if (now >= end) { resolve(false); return; }
    let pending = state.inflight > 0;
    for (const due of state.timers.values()) {
      if (due <= end) { pending = true; break; }
    }
    const quietFor = now - state.last;
    if (!pending && quietFor >= quietMs) { resolve(true); return; }
    state.setTimeout(check, pending ? 5 : Math.max(1, quietMs - quietFor));
  };
  check();
}))
