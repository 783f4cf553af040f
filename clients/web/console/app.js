// @ts-check
/**
 * The device console: "My devices" for every signed-in user, and for administrators (a token
 * with the admin scope) any user's devices. Screens follow the URL's hash: `#/` (home),
 * `#/me`, `#/users/<user id>`. The API decides who may see and do what; the console only
 * chooses which screen to offer, and says plainly when the API refuses.
 */

import { BoundSession, DeviceKeys, DeviceKeysApi, DeviceKeysError } from "/sdk/devicekeys.js";
import { loadConfig } from "./config.js";
import { deviceList } from "./devices.js";
import { h } from "./dom.js";
import { describeFailure, endsSession, sentence } from "./messages.js";
import { OidcSignIn, SignInError } from "./session.js";
import { sessionList } from "./sessions.js";

/**
 * @typedef {import("./config.js").ConsoleConfig} ConsoleConfig
 * @typedef {import("./session.js").Session} Session
 * @typedef {{ tone: "info" | "problem", title: string, text: string }} Notice
 */

// This folder: where config.json is, and the redirect URI registered with the provider.
const CONSOLE_URL = new URL(".", import.meta.url);
const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
const account = /** @type {HTMLElement} */ (document.getElementById("account"));

/** @type {ConsoleConfig} */
let config;
/** @type {OidcSignIn} */
let signIn;
/** In memory only: a reload or a closed tab ends the session. @type {Session | null} */
let session = null;
/** What the signed-out screen says (why the session ended, a failed sign-in). @type {Notice | null} */
let notice = null;
/** This browser's device key, if an app on this origin registered one. @type {string | null} */
let thisKeyId = null;
/** This browser's device-bound session, if an app on the API's origin started one. @type {string | null} */
let thisSessionId = null;
/** Bumped by every render: an answer that arrives after the user moved on is dropped. */
let renderCount = 0;

await start();

async function start() {
  try {
    config = await loadConfig(new URL("config.json", CONSOLE_URL));
  } catch (error) {
    main.replaceChildren(problem("The console is not configured", messageOf(error)));
    return;
  }
  signIn = new OidcSignIn({
    issuer: config.issuer,
    clientId: config.clientId,
    scopes: config.scopes,
    redirectUri: CONSOLE_URL.href,
  });
  thisKeyId = await new DeviceKeys({ baseUrl: config.apiBaseUrl }).keyId().catch(() => null);
  const bound = await new BoundSession({ baseUrl: config.apiBaseUrl }).current().catch(() => null);
  thisSessionId = bound?.session_id ?? null;

  const url = new URL(window.location.href);
  if (OidcSignIn.isResponse(url)) {
    // The code leaves the address bar and the history at once, whatever happens next.
    history.replaceState(null, "", CONSOLE_URL.pathname);
    try {
      const signedIn = await signIn.complete(url);
      session = signedIn.session;
      notice = null;
      history.replaceState(null, "", CONSOLE_URL.pathname + signedIn.returnTo);
    } catch (error) {
      if (!(error instanceof SignInError)) throw error;
      notice = { tone: "problem", title: "Sign-in failed", text: sentence(error.message) };
    }
  }
  window.addEventListener("hashchange", () => render({ focus: true }));
  render({ focus: false });
}

/** @param {{ focus: boolean }} options focus the new screen's heading (after the user navigated or acted) */
function render({ focus }) {
  renderCount += 1;
  showAccount();
  if (session === null) {
    main.replaceChildren(signedOutScreen());
  } else {
    const route = window.location.hash;
    const userMatch = /^#\/users\/(.+)$/.exec(route);
    if (userMatch) {
      showDevices(session, decodeURIComponent(userMatch[1]), { focus });
      return;
    }
    if (route === "#/me" || !isAdmin(session)) {
      showDevices(session, "me", { focus });
      return;
    }
    main.replaceChildren(
      h("h1", { tabindex: -1 }, "Find a user"),
      findUserForm(),
      h("p", { class: "hint" }, "The user's id at your identity provider: the sub of their tokens."),
    );
  }
  if (focus) main.querySelector("h1")?.focus();
}

/** @param {Session} current */
function isAdmin(current) {
  return current.scopes.includes(config.adminScope);
}

function showAccount() {
  const admin = session !== null && isAdmin(session);
  account.hidden = session === null;
  nav.hidden = !admin; // a user has one screen, an administrator two
  if (session === null) {
    nav.replaceChildren();
    account.replaceChildren();
    return;
  }
  const here = window.location.hash || "#/";
  /** @param {string} href @param {string} label @param {boolean} current */
  const link = (href, label, current) => h("a", { href, "aria-current": current ? "page" : null }, label);
  nav.replaceChildren(
    ...(admin
      ? [
          link("#/", "Find a user", here === "#/" || here.startsWith("#/users/")),
          link("#/me", "My devices", here === "#/me"),
        ]
      : []),
  );
  account.replaceChildren(
    ...present(
      h("span", {}, "Signed in as ", h("strong", {}, session.userName)),
      admin ? h("span", { class: "role" }, "Administrator") : null,
      h("button", { type: "button", class: "secondary", onclick: signOut }, "Sign out"),
    ),
  );
}

function signedOutScreen() {
  const button = h("button", { type: "button", class: "primary" }, "Sign in");
  const status = h("p", { class: "hint", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Opening the sign-in page…";
    try {
      await signIn.start(window.location.hash || "#/");
    } catch (error) {
      button.disabled = false;
      status.textContent = "";
      notice = { tone: "problem", title: "Sign-in is unavailable", text: sentence(messageOf(error)) };
      render({ focus: true });
    }
  });
  return h(
    "section",
    { class: "panel sign-in" },
    h("h1", { tabindex: -1 }, "Device console"),
    h(
      "p",
      {},
      "See the devices registered for your account, rename them and remove the ones you no longer use. " +
        "Administrators see and manage every user's devices.",
    ),
    notice &&
      h(
        "div",
        { class: `notice ${notice.tone}`, role: notice.tone === "problem" ? "alert" : "status" },
        h("h2", {}, notice.title),
        h("p", {}, notice.text),
      ),
    button,
    status,
    h("p", { class: "hint" }, `You sign in with ${config.issuer.host}.`),
  );
}

function signOut() {
  session = null; // the only copy of the token
  notice = { tone: "info", title: "Signed out", text: "The console forgot your session." };
  render({ focus: true });
}

/**
 * The API's authorizer refused the session's token: say so, and offer to sign in again.
 * @param {unknown} error the refusal
 */
function endSession(error) {
  session = null;
  notice = {
    tone: "problem",
    title: "Your session has ended",
    text: `${sentence(messageOf(error))} Sign in again to continue where you were.`,
  };
  render({ focus: true });
}

/**
 * @param {Session} current
 * @param {string} userId a user id, or "me"
 * @param {{ focus: boolean }} options
 */
async function showDevices(current, userId, { focus }) {
  const rendering = renderCount;
  const own = userId === "me" || userId === current.subject;
  const heading = own ? "My devices" : `Devices of ${userId}`;
  const search = isAdmin(current) ? findUserForm(own ? "" : userId) : null;
  main.setAttribute("aria-busy", "true");
  const loading = h("p", { class: "state", role: "status" }, "Loading device keys…");
  main.replaceChildren(...present(search, h("h1", { tabindex: -1 }, heading), loading));
  if (focus) main.querySelector("h1")?.focus();

  const api = new DeviceKeysApi({ baseUrl: config.apiBaseUrl, token: current.accessToken });
  let records;
  const sessions = api.listAllBoundSessions(userId).catch(() => null); // the devices show without them
  try {
    records = await api.listAll(userId);
  } catch (error) {
    if (rendering !== renderCount) return;
    if (endsSession(error)) {
      endSession(error);
      return;
    }
    main.removeAttribute("aria-busy");
    const forbidden = error instanceof DeviceKeysError && error.code === "forbidden";
    main.replaceChildren(
      ...present(search, h("h1", { tabindex: -1 }, heading)),
      forbidden
        ? problem(
            "Not allowed",
            `Your account cannot see the devices of ${userId}: only administrators ` +
              `(the ${config.adminScope} scope) see other users' devices.`,
            h("a", { href: "#/me" }, "See your own devices"),
          )
        : problem("The devices could not be loaded", describeFailure(error), retryButton()),
    );
    if (focus) main.querySelector("h1")?.focus();
    return;
  }
  const boundSessions = await sessions;
  if (rendering !== renderCount) return;
  main.removeAttribute("aria-busy");
  const list = deviceList(
    {
      api,
      userId,
      heading,
      isAdmin: isAdmin(current),
      thisKeyId,
      reload: () => render({ focus: true }),
      endSession,
    },
    records,
  );
  const sessionsSection = sessionList(
    { api, userId, isAdmin: isAdmin(current), thisSessionId, endSession },
    boundSessions,
  );
  main.replaceChildren(...present(search, list, sessionsSection));
  if (focus) main.querySelector("h1")?.focus();
}

/** @param {string} [value] the user shown now */
function findUserForm(value = "") {
  const input = h("input", {
    id: "find-user",
    name: "user",
    type: "text",
    required: true,
    value,
    autocomplete: "off",
    spellcheck: "false",
  });
  const form = h(
    "form",
    { role: "search", class: "find-user", "aria-label": "Find a user" },
    h("label", { for: "find-user" }, "User ID"),
    h("div", { class: "inline" }, input, h("button", { type: "submit", class: "primary" }, "Show devices")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const userId = input.value.trim();
    if (!userId) {
      input.focus();
      return;
    }
    const route = `#/users/${encodeURIComponent(userId)}`;
    if (window.location.hash === route) render({ focus: true }); // the same user again: load anew
    else window.location.hash = route;
  });
  return form;
}

function retryButton() {
  return h("button", { type: "button", class: "secondary", onclick: () => render({ focus: true }) }, "Try again");
}

/**
 * @param {string} title
 * @param {string} text
 * @param {Node} [next] what the user can do about it
 */
function problem(title, text, next) {
  return h(
    "div",
    { class: "notice problem", role: "alert" },
    h("h2", {}, title),
    h("p", {}, text),
    next && h("p", {}, next),
  );
}

/**
 * @param {...(HTMLElement | null)} nodes
 * @returns {HTMLElement[]}
 */
function present(...nodes) {
  return nodes.filter((node) => node !== null);
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
