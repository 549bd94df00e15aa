// Resolves true as soon as `selector` matches (watching DOM mutations, not polling), false when
// `timeoutMs` passes. An invalid selector throws a SyntaxError.
((selector, timeoutMs) => new Promise((resolve) => {
  if (document.querySelector(selector)) { resolve(true); return; }
  const observer = new MutationObserver(() => {
    if (document.querySelector(selector)) { observer.disconnect(); resolve(true); }
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true });
  const schedule = (window.__chromeguard && window.__chromeguard.setTimeout) || window.setTimeout;
  schedule(() => { observer.disconnect(); resolve(!!document.querySelector(selector)); }, timeoutMs);
}))
