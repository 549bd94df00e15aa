// The page side of chromeguard's Selenium-shaped API. Elements handed to Python are kept in a
// per-document registry and named by ids that die with the document, so a reference into an
// old page is detected as stale. Values cross the boundary as JSON, with elements written as
// W3C element references ({"element-6066-11e4-a52e-4f735466cecf": id}).
(() => {
  if (window.__chromeguardDriver) return window.__chromeguardDriver;
  const KEY = "element-6066-11e4-a52e-4f735466cecf";
  const prefix = Math.random().toString(36).slice(2, 10) + ".";
  const byId = new Map();
  const ids = new WeakMap();
  let counter = 0;

  const fail = (name, message) => {
    const error = new Error(message);
    error.name = name;
    throw error;
  };
  const ref = (el) => {
    let id = ids.get(el);
    if (!id) {
      id = prefix + (++counter);
      ids.set(el, id);
      byId.set(id, el);
    }
    return { [KEY]: id };
  };
  const element = (id) => {
    const el = byId.get(id);
    if (!el) fail("StaleElementReferenceException", `element ${id} belongs to a page that is gone`);
    if (!el.isConnected) fail("StaleElementReferenceException", `element ${id} is no longer attached to the DOM`);
    return el;
  };
  const isElement = (value) => value instanceof Element
    || (value && typeof value === "object" && value.nodeType === 1);
  const toJson = (value, seen = new Set()) => {
    if (value === undefined || value === null) return null;
    if (isElement(value)) return ref(value);
    if (typeof value === "function") return null;
    if (typeof value !== "object") return typeof value === "number" && !isFinite(value) ? null : value;
    if (seen.has(value)) fail("JavascriptException", "the result contains a cycle");
    seen.add(value);
    if (Array.isArray(value) || value instanceof NodeList || value instanceof HTMLCollection) {
      return Array.from(value, (item) => toJson(item, seen));
    }
    if (value === window || value === document) return null;
    const out = {};
    for (const key of Object.keys(value)) out[key] = toJson(value[key], seen);
    return out;
  };
  const fromJson = (value) => {
    if (Array.isArray(value)) return value.map(fromJson);
    if (value && typeof value === "object") {
      if (typeof value[KEY] === "string") return element(value[KEY]);
      const out = {};
      for (const key of Object.keys(value)) out[key] = fromJson(value[key]);
      return out;
    }
    return value;
  };

  const linkText = (a) => (a.innerText || a.textContent || "").replace(/\s+/g, " ").trim();
  const find = (root, using, value) => {
    const scope = root || document;
    switch (using) {
      case "css selector":
        try { return Array.from(scope.querySelectorAll(value)); }
        catch (e) { fail("InvalidSelectorException", `invalid CSS selector ${JSON.stringify(value)}`); }
      case "id": return Array.from(scope.querySelectorAll(`[id="${CSS.escape(value)}"]`));
      case "name": return Array.from(scope.querySelectorAll(`[name="${CSS.escape(value)}"]`));
      case "tag name": return Array.from(scope.getElementsByTagName(value));
      case "class name":
        if (/\s/.test(value.trim())) fail("InvalidSelectorException", "compound class names are not permitted");
        return Array.from(scope.getElementsByClassName(value));
      case "link text": return Array.from(scope.querySelectorAll("a")).filter((a) => linkText(a) === value.trim());
      case "partial link text": return Array.from(scope.querySelectorAll("a")).filter((a) => linkText(a).includes(value));
      case "xpath": {
        let result;
        try {
          result = document.evaluate(value, scope, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
        } catch (e) { fail("InvalidSelectorException", `invalid XPath ${JSON.stringify(value)}: ${e.message}`); }
        const found = [];
        for (let i = 0; i < result.snapshotLength; i++) {
          const node = result.snapshotItem(i);
          if (!isElement(node)) fail("InvalidSelectorException", `XPath ${JSON.stringify(value)} selects something that is not an element`);
          found.push(node);
        }
        return found;
      }
      default: fail("InvalidArgumentException", `unknown locator strategy ${JSON.stringify(using)}`);
    }
  };
  const findWithin = (rootId, using, value) => find(rootId ? element(rootId) : null, using, value);

  const isDisplayed = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.display === "none") return false;
      if (node === el && (style.visibility === "hidden" || style.visibility === "collapse")) return false;
    }
    if (el.tagName === "OPTION" || el.tagName === "OPTGROUP") {
      const select = el.closest("select");
      return select ? isDisplayed(select) : true;
    }
    if (el.tagName === "INPUT" && el.type === "hidden") return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0 && getComputedStyle(el).opacity !== "0";
  };
  const isEnabled = (el) => !(el.disabled || el.closest("fieldset[disabled]"));
  const attribute = (el, name) => {
    const lower = name.toLowerCase();
    if (lower === "style") return el.getAttribute("style");
    if (lower === "class") return el.getAttribute("class");
    if (name in el && !["object", "function", "undefined"].includes(typeof el[name])) {
      const prop = el[name];
      if (typeof prop === "boolean") return prop ? "true" : null;
      if (prop !== null) return String(prop);
    }
    const value = el.getAttribute(name);
    if (value !== null && el.hasAttribute(name) && typeof el[name] === "boolean") return "true";
    return value;
  };
  const center = (el) => {
    el.scrollIntoView({ block: "center", inline: "center" });
    const rect = el.getClientRects()[0] || el.getBoundingClientRect();
    return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
  };
  const interactable = (el) => {
    if (!isDisplayed(el)) fail("ElementNotInteractableException", `<${el.tagName.toLowerCase()}> is not displayed`);
    if (!isEnabled(el)) fail("ElementNotInteractableException", `<${el.tagName.toLowerCase()}> is disabled`);
  };
  const fire = (el, type) => el.dispatchEvent(new Event(type, { bubbles: true }));

  const ops = {
    find: (rootId, using, value) => findWithin(rootId, using, value).map(ref),
    // Resolves as soon as the locator matches, watching DOM mutations; [] when time runs out.
    waitFind: (rootId, using, value, timeoutMs) => new Promise((resolve, reject) => {
      let observer = null;
      const check = () => {
        try {
          const found = findWithin(rootId, using, value);
          if (found.length) { if (observer) observer.disconnect(); resolve(found.map(ref)); return true; }
        } catch (e) { if (observer) observer.disconnect(); reject(e); return true; }
        return false;
      };
      if (check()) return;
      observer = new MutationObserver(check);
      observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
      setTimeout(() => { observer.disconnect(); resolve([]); }, timeoutMs);
    }),
    text: (id) => {
      const el = element(id);
      return isDisplayed(el) ? (el.innerText || "").replace(/[ \t]+\n/g, "\n").trim() : "";
    },
    tagName: (id) => element(id).tagName.toLowerCase(),
    attribute: (id, name) => attribute(element(id), name),
    domAttribute: (id, name) => element(id).getAttribute(name),
    property: (id, name) => toJson(element(id)[name]),
    displayed: (id) => isDisplayed(element(id)),
    enabled: (id) => isEnabled(element(id)),
    selected: (id) => { const el = element(id); return !!(el.checked || el.selected); },
    source: () => document.documentElement ? document.documentElement.outerHTML : "",
    // The frame element for switch_to.frame: an index into window.frames, a name or id, or an
    // element reference.
    frame: (mark) => {
      let el = null;
      if (typeof mark === "number") {
        const win = window.frames[mark];
        el = win ? win.frameElement : null;
      } else if (typeof mark === "string") {
        el = Array.from(document.querySelectorAll("iframe, frame"))
          .find((f) => f.name === mark || f.id === mark) || null;
      } else {
        el = fromJson(mark);
      }
      if (!el || !["IFRAME", "FRAME"].includes(el.tagName)) fail("NoSuchFrameException", `no frame ${JSON.stringify(mark)}`);
      return ref(el);
    },
    // Where a frame's content starts, in its parent's viewport.
    frameOffset: (id) => {
      const el = element(id);
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return { x: r.left + el.clientLeft + parseFloat(style.paddingLeft), y: r.top + el.clientTop + parseFloat(style.paddingTop) };
    },
    rect: (id) => { const r = element(id).getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; },
    clickPoint: (id) => { const el = element(id); interactable(el); return center(el); },
    focus: (id) => { const el = element(id); interactable(el); el.focus(); return document.activeElement === el || el.contains(document.activeElement); },
    isFileInput: (id) => { const el = element(id); return el.tagName === "INPUT" && el.type === "file"; },
    clear: (id) => {
      const el = element(id);
      interactable(el);
      if (el.isContentEditable) { el.textContent = ""; fire(el, "input"); return; }
      if (!("value" in el) || el.readOnly) fail("ElementNotInteractableException", "element is not editable");
      el.focus();
      el.value = "";
      fire(el, "input");
      fire(el, "change");
      el.blur();
    },
    submit: (id) => {
      const el = element(id);
      const form = el.form || el.closest("form");
      if (!form) fail("JavascriptException", "element is not in a form");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    },
    // Runs a Selenium script (a function body) with its arguments; `done` is the async callback.
    run: (script, args, isAsync, timeoutMs) => {
      const fn = new Function(script);
      const values = fromJson(args);
      if (!isAsync) {
        return Promise.resolve(fn.apply(window, values)).then((result) => toJson(result));
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => fail_async(reject), timeoutMs);
        const done = (result) => { clearTimeout(timer); try { resolve(toJson(result)); } catch (e) { reject(e); } };
        try { fn.apply(window, [...values, done]); } catch (e) { clearTimeout(timer); reject(e); }
      });
    },
    // Resolves true once `predicate` (checked on every DOM change) holds, false on timeout.
    waitUntil: (predicateSource, args, timeoutMs) => new Promise((resolve) => {
      const predicate = new Function("args", predicateSource);
      const values = fromJson(args);
      let observer = null;
      const check = () => {
        let ok = false;
        try { ok = !!predicate(values); } catch (e) { ok = false; }
        if (ok) { if (observer) observer.disconnect(); resolve(true); }
        return ok;
      };
      if (check()) return;
      observer = new MutationObserver(check);
      observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
      setTimeout(() => { observer.disconnect(); resolve(check()); }, timeoutMs);
    }),
  };
  const fail_async = (reject) => {
    const error = new Error("the script did not call its callback within the script timeout");
    error.name = "ScriptTimeoutException";
    reject(error);
  };
  Object.defineProperty(window, "__chromeguardDriver", {
    value: { ops, element, find, isDisplayed, isEnabled },
    enumerable: false,
  });
  return window.__chromeguardDriver;
})()
