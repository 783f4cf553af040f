// @ts-check
/**
 * Building the page without innerHTML: every text from the API (names, reasons, custom data)
 * reaches the DOM as text, never as markup.
 */

/**
 * @typedef {string | Node | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Properties
 */

/**
 * An element with attributes (`on<event>` adds a listener; `false`, null and undefined are
 * left out) and children (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Properties} [properties]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, properties = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== false && child !== null && child !== undefined) element.append(child);
  }
  return element;
}

/**
 * Say something to screen readers (the page's polite live region), e.g. that an action succeeded.
 * @param {string} message
 */
export function announce(message) {
  const announcer = /** @type {HTMLElement} */ (document.getElementById("announcer"));
  announcer.textContent = "";
  // A new text node in the next frame: announced even when the same message comes twice in a row.
  requestAnimationFrame(() => {
    announcer.textContent = message;
  });
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

/**
 * A `<time>` showing an ISO 8601 instant in the reader's locale and time zone; on a narrow
 * screen it wraps between the date and the time, never inside either.
 * @param {string} iso
 */
export function time(iso) {
  const instant = new Date(iso);
  return h(
    "time",
    { datetime: iso, title: iso },
    h("span", { class: "nowrap" }, `${DATE.format(instant)},`),
    " ",
    h("span", { class: "nowrap" }, TIME.format(instant)),
  );
}

let lastId = 0;

/**
 * A unique id, for labels and `aria-*` references.
 * @param {string} prefix
 */
export function uniqueId(prefix) {
  lastId += 1;
  return `${prefix}-${lastId}`;
}
