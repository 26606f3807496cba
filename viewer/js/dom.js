// Small DOM helpers shared by the catalogue's panels. DOM only; text is always textContent.
import { t } from "./strings.js";

/**
 * An element with a class, text and attributes; children appended.
 * @param {Document} doc
 */
export function el(doc, tag, { className, text, attrs } = {}, children = []) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/**
 * Fill the texts of `root` from strings.js: `data-text` (textContent), `data-label`
 * (aria-label and title), `data-aria-label` (aria-label only), `data-placeholder`.
 */
export function applyStrings(root) {
  for (const node of root.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
  for (const node of root.querySelectorAll("[data-label]")) {
    node.setAttribute("aria-label", t(node.dataset.label));
    node.title = t(node.dataset.label);
  }
  for (const node of root.querySelectorAll("[data-aria-label]")) {
    node.setAttribute("aria-label", t(node.dataset.ariaLabel));
  }
  for (const node of root.querySelectorAll("[data-placeholder]")) {
    node.placeholder = t(node.dataset.placeholder);
  }
}

/** Replace a select's options: [{value, text}], keeping the current value when it remains. */
export function setOptions(doc, select, options) {
  const current = select.value;
  select.replaceChildren(
    ...options.map((o) => el(doc, "option", { text: o.text, attrs: { value: o.value } })),
  );
  if (options.some((o) => o.value === current)) select.value = current;
}

/** Only http(s) links are ever made clickable (the server checks too). */
export function safeHref(url) {
  if (typeof url !== "string") return null;
  try {
    const u = new URL(url, "http://invalid.invalid/");
    if ((u.protocol === "https:" || u.protocol === "http:") && /^https?:\/\//i.test(url.trim())) {
      return u.href;
    }
  } catch {
    return null;
  }
  return null;
}

/** The tags the server's sanitiser (layers/catalogue/render.py) lets through. */
const HTML_TAGS = new Set(
  "p br strong em ul ol li a h3 h4 h5 h6 blockquote code pre hr table thead tbody tr th td".split(" "),
);
/** Dropped with their content; other unknown elements are unwrapped to their text. */
const DROP = new Set(["script", "style", "template", "iframe", "object", "embed", "svg", "math", "noscript", "title"]);

/**
 * Server-sanitised HTML as a fragment of `doc`, rebuilt from an inert parse (DOMParser:
 * nothing loads or runs) keeping only the allowed tags and, on links, an http(s)/mailto
 * href and a title. Defence in depth: the server has already cleaned it.
 */
export function htmlFragment(doc, html) {
  const parsed = new doc.defaultView.DOMParser().parseFromString(String(html ?? ""), "text/html");
  const out = doc.createDocumentFragment();
  const copy = (from, into) => {
    for (const child of from.childNodes) {
      if (child.nodeType === 3) {
        into.append(doc.createTextNode(child.data));
        continue;
      }
      if (child.nodeType !== 1) continue;
      const tag = child.localName;
      if (DROP.has(tag)) continue;
      if (!HTML_TAGS.has(tag)) {
        copy(child, into);
        continue;
      }
      const node = doc.createElement(tag);
      if (tag === "a") {
        const raw = child.getAttribute("href") || "";
        const href = /^mailto:/i.test(raw.trim()) ? raw.trim() : safeHref(raw);
        if (href) {
          node.setAttribute("href", href);
          node.setAttribute("target", "_blank");
          node.setAttribute("rel", "noopener noreferrer");
        }
        const title = child.getAttribute("title");
        if (title) node.setAttribute("title", title);
      }
      copy(child, node);
      into.append(node);
    }
  };
  copy(parsed.body, out);
  return out;
}
