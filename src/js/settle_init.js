// Installed before any page script runs: tracks what may still change the DOM soon (pending
// timers with their due times, fetches and XHRs in flight) and when the DOM last changed, so
// settling can end as soon as the page is quiet instead of sleeping a fixed time.
(() => {
  if (window.__chromeguard) return;
  const originalSetTimeout = window.setTimeout;
  const originalClearTimeout = window.clearTimeout;
  const state = {
    timers: new Map(),
    inflight: 0,
    last: performance.now(),
    setTimeout: originalSetTimeout.bind(window),
  };
  Object.defineProperty(window, "__chromeguard", { value: state, enumerable: false });
  window.setTimeout = function (handler, delay, ...args) {
    if (typeof handler !== "function") {
      return originalSetTimeout.call(window, handler, delay, ...args);
    }
    const id = originalSetTimeout.call(window, function () {
      state.timers.delete(id);
      return handler.apply(this, args);
    }, delay);
    state.timers.set(id, performance.now() + (Number(delay) || 0));
    return id;
  };
  window.clearTimeout = function (id) {
    state.timers.delete(id);
    return originalClearTimeout.call(window, id);
  };
  const originalFetch = window.fetch;
  if (originalFetch) {
    window.fetch = function (...args) {
      state.inflight += 1;
      return originalFetch.apply(this, args).finally(() => { state.inflight -= 1; });
    };
  }
  const originalSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    state.inflight += 1;
    this.addEventListener("loadend", () => { state.inflight -= 1; }, { once: true });
    return originalSend.apply(this, args);
  };
  new MutationObserver(() => { state.last = performance.now(); })
    .observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["href", "src", "data"] });
})();
