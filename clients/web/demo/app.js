// @ts-check
/**
 * The devicekeys demo: the guide's device flows with the browser SDK.
 *
 * 1. Sign in with a password (sign-in.js), then the known-device-step-up journey decides whether
 *    this device needs a second factor.
 * 2. Register this device, and save the user's id next to its key (`saveData`).
 * 3. On the next visit, this device signs the user in by itself: `verify` with the saved id.
 * 4. Forget this device (the browser's key) or delete it (the account's record).
 * 5. After the password, a device-bound session (DBSC, docs/dbsc.md): the app starts it with one
 *    call, the browser registers its own session key and keeps the bound cookie fresh, and the
 *    protected route answers only with that cookie.
 *
 * A login from a device must be decided by a server: here the page shows what the open verify
 * route answers, which proves something to this page only. A real app sends
 * `await device.proof(userId, "verify")` to its backend, which starts the login-registered-device
 * journey (or calls verify) and opens the session.
 */

import { BoundSession, DeviceKeys, DeviceKeysApi, DeviceKeysError } from "/sdk/devicekeys.js";
import { signIn } from "./sign-in.js";

// The local API serves this page, so the API is on the page's own origin.
const device = new DeviceKeys({ baseUrl: location.origin, namespace: "demo" });
const USER_ID = "userExternalId"; // the name the saved user id goes under, as in the guide
// The device-bound session's routes (/dbsc/*) are on this origin too: the cookie is this origin's.
const boundSession = new BoundSession({ baseUrl: location.origin });

/**
 * Who is signed in, how, and what the service says of this device for them.
 * @typedef {object} Session
 * @property {string} userId
 * @property {string | null} token the access token of a password sign-in, in memory only (a reload
 *   drops it); null after a device sign-in, which gives this page no token
 * @property {"known" | "new"} device whether this device is registered for the user
 */
/** @type {Session | null} */
let session = null;

const ui = {
  status: byId("status", HTMLElement),
  signIn: byId("sign-in", HTMLElement),
  signInTitle: byId("sign-in-title", HTMLElement),
  signInForm: byId("sign-in-form", HTMLFormElement),
  userName: byId("user-name", HTMLInputElement),
  password: byId("password", HTMLInputElement),
  deviceSignIn: byId("device-sign-in", HTMLButtonElement),
  account: byId("account", HTMLElement),
  accountTitle: byId("account-title", HTMLElement),
  accountUser: byId("account-user", HTMLElement),
  accountHow: byId("account-how", HTMLElement),
  signOut: byId("sign-out", HTMLButtonElement),
  stepUp: byId("step-up", HTMLElement),
  stepUpOutcome: byId("step-up-outcome", HTMLElement),
  register: byId("register", HTMLElement),
  registerForm: byId("register-form", HTMLFormElement),
  deviceName: byId("device-name", HTMLInputElement),
  customData: byId("custom-data", HTMLTextAreaElement),
  thisDevice: byId("this-device", HTMLElement),
  keyId: byId("key-id", HTMLElement),
  savedUser: byId("saved-user", HTMLElement),
  deleteAction: byId("delete-action", HTMLElement),
  delete: byId("delete", HTMLButtonElement),
  forget: byId("forget", HTMLButtonElement),
  boundSection: byId("bound-session", HTMLElement),
  boundStatus: byId("bound-status", HTMLElement),
  protectedCall: byId("protected-call", HTMLButtonElement),
  protectedOutcome: byId("protected-outcome", HTMLElement),
};

// --- the flows ---------------------------------------------------------------------------

/** Login from registered devices only: the device signs a challenge for the user it saved. */
async function signInWithThisDevice() {
  const userId = await device.loadData(USER_ID);
  if (typeof userId !== "string") return;
  ui.userName.value = userId;
  showStatus("info", `Checking this device for ${userId}…`);
  try {
    const { device_key } = await device.verify(userId);
    session = { userId, token: null, device: "known" };
    ui.stepUp.hidden = true;
    const name = device_key.display_name ? ` (${device_key.display_name})` : "";
    showStatus("success", `Welcome back, ${userId}: this device${name} signed you in, no password needed.`);
  } catch (error) {
    showStatus("error", deviceRefusal(error, userId));
  }
  await render();
  if (session) ui.accountTitle.focus();
}

async function signInWithPassword() {
  const { userId, accessToken } = await signIn(ui.userName.value.trim());
  ui.password.value = "";
  startBoundSession(accountApi(accessToken), userId); // beside the device check, not in its way
  showStatus("info", `Password accepted for ${userId}. Checking this device…`);
  const { outcome, reason } = await knownDeviceStepUp(accountApi(accessToken), userId);
  if (outcome === "complete") {
    session = { userId, token: accessToken, device: "known" };
    await device.saveData(USER_ID, userId);
    showStatus("success", "Known device: no second factor needed.");
  } else if (outcome === "rejected") {
    session = null; // the journey refuses the login, password or not
    showStatus("error", `This device is blocked for ${userId}: the password alone does not let it in.`);
  } else {
    session = { userId, token: accessToken, device: "new" };
    showStatus("info", `New device (${reason}): a real app asks for a one-time code now. Register it to skip that.`);
  }
  await render();
  (session ? ui.accountTitle : ui.signInTitle).focus();
}

/**
 * The known-device-step-up journey: a known device completes, a new one needs a second factor,
 * a blocked one is refused whatever the password.
 * @param {DeviceKeysApi} api with the user's token: the journey runs for its user
 * @param {string} userId
 */
async function knownDeviceStepUp(api, userId) {
  const body = (await device.hasKey()) ? { proof: await device.proof(userId, "verify") } : {};
  const outcome = await api.startJourney("known-device-step-up", body);
  ui.stepUpOutcome.textContent = outcome.reason ? `${outcome.outcome} (reason: ${outcome.reason})` : outcome.outcome;
  ui.stepUpOutcome.dataset.outcome = outcome.outcome;
  ui.stepUp.hidden = false;
  return outcome;
}

async function registerThisDevice() {
  if (!session?.token) return;
  const { userId, token } = session;
  const customData = parseCustomData(ui.customData.value);
  try {
    const record = await device.register(userId, { token, displayName: ui.deviceName.value.trim(), customData });
    const registered = `Registered “${record.display_name}” for ${userId}.`;
    showStatus("success", `${registered} Next time, this device signs you in.`);
  } catch (error) {
    if (!(error instanceof DeviceKeysError && error.code === "device_key_exists")) throw error;
    showStatus("success", `This device was registered for ${userId} already.`);
  }
  await device.saveData(USER_ID, userId);
  session.device = "known";
  ui.stepUp.hidden = true; // its outcome was for the device as it was before
  await render();
}

async function deleteThisDevice() {
  const keyId = await device.keyId();
  if (!session?.token || !keyId) return;
  await accountApi(session.token).delete(session.userId, keyId);
  await device.removeData(USER_ID);
  session.device = "new";
  showStatus("success", "Deleted this device from your account: it is a new device now. Register it again to use it.");
  await render();
}

async function forgetThisDevice() {
  await device.forget();
  if (session) session.device = "new";
  showStatus("success", "This browser forgot its device key. Your account lists the device until you delete it.");
  await render();
}

/**
 * Start a device-bound session for the user who just gave their password: one call, whose answer
 * carries the registration header; the browser does the rest (or nothing, without DBSC).
 * @param {DeviceKeysApi} api with the user's token
 * @param {string} userId
 */
async function startBoundSession(api, userId) {
  ui.boundSection.hidden = false;
  ui.boundStatus.textContent = "Starting a device-bound session…";
  try {
    await api.startBoundSession(userId);
  } catch (error) {
    ui.boundStatus.textContent = `No device-bound session: ${describe(error)}`;
    return;
  }
  // The browser registers in the background, right after the answer: give it a moment.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    if (await showBoundSession()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  ui.boundStatus.textContent =
    "This browser registered no device-bound session (DBSC needs HTTPS and a browser that supports it): " +
    "the app's other sign-in cookies stay as they were.";
}

/** Show whose bound session this browser holds; false when it holds none. */
async function showBoundSession() {
  const current = await boundSession.current().catch(() => null);
  if (!current) return false;
  ui.boundSection.hidden = false;
  const until = new Date(current.credential_expires_at * 1000).toLocaleTimeString();
  ui.boundStatus.textContent =
    `This browser holds a device-bound session for ${current.user_id} (${current.session_id.slice(-8)}): ` +
    `its cookie lasts until ${until}, and the browser renews it with its own key.`;
  ui.boundStatus.dataset.session = current.session_id;
  return true;
}

/** The protected route answers only with a valid bound cookie of an active session. */
async function callProtectedApi() {
  const current = await boundSession.current();
  ui.protectedOutcome.dataset.outcome = current ? "allowed" : "refused";
  ui.protectedOutcome.textContent = current
    ? `allowed: session ${current.session_id.slice(-8)} of ${current.user_id}`
    : "refused: no valid device-bound session";
}

function signOut() {
  session = null;
  boundSession.end().catch(() => null); // the bound session ends too (its cookie, and on the server)
  ui.boundSection.hidden = true;
  ui.stepUp.hidden = true;
  showStatus("info", "Signed out.");
  render().then(() => ui.signInTitle.focus());
}

// --- showing it --------------------------------------------------------------------------

/** Show each section that applies to the session and this device, and nothing else. */
async function render() {
  const [keyId, savedUser] = await Promise.all([device.keyId(), device.loadData(USER_ID)]);
  ui.signIn.hidden = session !== null;
  ui.deviceSignIn.hidden = !(keyId && typeof savedUser === "string");
  if (typeof savedUser === "string") ui.deviceSignIn.textContent = `Sign in with this device as ${savedUser}`;
  ui.account.hidden = session === null;
  ui.accountUser.textContent = session?.userId ?? "";
  ui.accountHow.textContent = session?.token ? "With your password." : "With this device: no password.";
  ui.register.hidden = !(session?.token && session.device === "new");
  ui.thisDevice.hidden = keyId === null;
  ui.keyId.textContent = keyId ?? "";
  ui.savedUser.textContent = typeof savedUser === "string" ? savedUser : "nobody yet (not registered from here)";
  ui.deleteAction.hidden = !(session?.token && session.device === "known");
}

/**
 * @param {"info" | "success" | "error"} tone
 * @param {string} message
 */
function showStatus(tone, message) {
  ui.status.dataset.tone = tone;
  ui.status.textContent = message;
}

/**
 * What to tell a user whose device did not sign them in, by error code.
 * @param {unknown} error
 * @param {string} userId
 */
function deviceRefusal(error, userId) {
  if (!(error instanceof DeviceKeysError)) return describe(error);
  switch (error.code) {
    case "device_not_found":
      return `This device is not registered for ${userId} (any more). Sign in with your password.`;
    case "device_blocked":
      return (
        `This device is blocked for ${userId}: an administrator blocked it. ` +
        "Use another device or contact support."
      );
    case "no_device_key":
      return "This browser has no device key. Sign in with your password and register it.";
    default:
      return describe(error);
  }
}

/** @param {unknown} error */
function describe(error) {
  if (!(error instanceof DeviceKeysError)) return error instanceof Error ? error.message : String(error);
  if (error.code === "network_error") return "Cannot reach the devicekeys API. Check your connection and try again.";
  return `${error.message} (${error.code})`;
}

// --- plumbing ----------------------------------------------------------------------------

/**
 * Run `action` when `control` (a form or a button) is used: busy while it runs, its failure shown.
 * @param {HTMLFormElement | HTMLButtonElement} control
 * @param {string} progress what the page says while the action runs
 * @param {() => Promise<void>} action
 * @returns {(event: Event) => Promise<void>}
 */
function whileBusy(control, progress, action) {
  return async (event) => {
    event.preventDefault(); // a form is sent by the script, not by the browser
    const buttons = control instanceof HTMLFormElement ? [...control.querySelectorAll("button")] : [control];
    control.setAttribute("aria-busy", "true");
    for (const button of buttons) button.disabled = true;
    showStatus("info", progress);
    try {
      await action();
    } catch (error) {
      showStatus("error", describe(error));
    } finally {
      control.removeAttribute("aria-busy");
      for (const button of buttons) button.disabled = false;
    }
  };
}

/**
 * @param {string} text
 * @returns {Record<string, unknown> | undefined}
 */
function parseCustomData(text) {
  if (!text.trim()) return undefined;
  let value = null;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON: refused below, like any other value that is not an object
  }
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  ui.customData.setAttribute("aria-invalid", String(!isObject));
  if (!isObject) throw new Error('Custom data must be a JSON object, like {"os": "linux"}.');
  return value;
}

/** @param {string} token the user's access token */
function accountApi(token) {
  return new DeviceKeysApi({ baseUrl: location.origin, token });
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page`);
  return element;
}

ui.signInForm.addEventListener("submit", whileBusy(ui.signInForm, "Signing in…", signInWithPassword));
ui.deviceSignIn.addEventListener("click", whileBusy(ui.deviceSignIn, "Checking this device…", signInWithThisDevice));
ui.registerForm.addEventListener("submit", whileBusy(ui.registerForm, "Registering this device…", registerThisDevice));
ui.delete.addEventListener("click", whileBusy(ui.delete, "Deleting this device…", deleteThisDevice));
ui.forget.addEventListener("click", whileBusy(ui.forget, "Forgetting this device…", forgetThisDevice));
ui.signOut.addEventListener("click", signOut);
ui.protectedCall.addEventListener("click", () => {
  callProtectedApi().catch((error) => {
    ui.protectedOutcome.dataset.outcome = "failed";
    ui.protectedOutcome.textContent = `failed: ${describe(error)}`;
  });
});

if (await device.loadData(USER_ID)) {
  await signInWithThisDevice();
} else {
  await render(); // the form is shown first: "Sign in to start" must not come before it can be used
  showStatus("info", "Sign in to start.");
}
await showBoundSession(); // a bound session outlives the page: its cookie is renewed by the browser
