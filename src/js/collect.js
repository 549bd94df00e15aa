// Everything the scrape needs from the DOM in one round trip: anchors (absolute URL, text,
// download attribute), media sources (URL, label, declared type), the title and optionally
// the HTML.
((includeHtml) => {
  const absolute = (value) => {
    try { return new URL(value, document.baseURI).href; } catch (e) { return null; }
  };
  const text = (el) => (el.textContent || el.getAttribute("title") || el.getAttribute("aria-label") || "")
    .replace(/\s+/g, " ").trim().slice(0, 300);
  const anchors = [];
  for (const a of document.querySelectorAll("a[href], area[href]")) {
    const url = absolute(a.getAttribute("href"));
    if (url) anchors.push([url, text(a), a.hasAttribute("download") ? a.getAttribute("download") : null]);
  }
  const media = [];
  for (const el of document.querySelectorAll("video[src], audio[src], source[src], embed[src], track[src], object[data]")) {
    const url = absolute(el.getAttribute(el.tagName === "OBJECT" ? "data" : "src"));
    const label = el.getAttribute("title") || el.getAttribute("label") || "";
    if (url) media.push([url, label.trim().slice(0, 300), el.getAttribute("type")]);
  }
  return {
    title: document.title,
    anchors,
    media,
    html: includeHtml ? document.documentElement.outerHTML : null,
  };
})
