// @ts-check
/**
 * A user's device-bound sessions (DBSC, docs/dbsc.md), as cards under their devices: which browser,
 * since when, how often it renewed its cookie. The user ends one of their own (signing that browser
 * out); an administrator terminates any (a block: the authorizer refuses its cookie at once and its
 * next refresh fails, which ends it in the browser). Ended sessions stay listed until they expire.
 */

import { openDialog } from "./dialog.js";
import { announce, h, time, uniqueId } from "./dom.js";
import { describeFailure, endsSession } from "./messages.js";

/**
 * @typedef {import("/sdk/devicekeys.js").BoundSessionRecord} BoundSessionRecord
 * @typedef {import("/sdk/devicekeys.js").DeviceKeysApi} DeviceKeysApi
 */

/**
 * @typedef {object} SessionListContext
 * @property {DeviceKeysApi} api
 * @property {string} userId whose sessions: a user id, or "me"
 * @property {boolean} isAdmin the console's session holds the admin scope
 * @property {string | null} thisSessionId the bound session of this browser, when it has one
 * @property {(error: unknown) => void} endSession the API refused the console's token
 */

/**
 * The sessions section for `records` (null: they could not be loaded; the devices above still show).
 * @param {SessionListContext} context
 * @param {BoundSessionRecord[] | null} records
 * @returns {HTMLElement}
 */
export function sessionList(context, records) {
  const headingId = uniqueId("session-list");
  const heading = h("h2", { id: headingId, tabindex: -1 }, "Bound sessions");
  const summary = h("p", { class: "summary" });
  const cards = h("div", { class: "devices" });
  const empty = h(
    "p",
    { class: "state empty" },
    "No device-bound sessions: they appear when a browser that supports them signs in to an app.",
  );
  /** @type {Map<string, BoundSessionRecord>} */
  const byId = new Map();

  const refresh = () => {
    const active = [...byId.values()].filter((record) => record.status === "active").length;
    summary.textContent = `${active} active, ${byId.size - active} ended`;
    empty.hidden = byId.size > 0;
  };

  /** @param {BoundSessionRecord} record */
  const show = (record) => {
    byId.set(record.session_id, record);
    const card = sessionCard(context, record, terminate);
    const current = cards.querySelector(`[data-session-id="${CSS.escape(record.session_id)}"]`);
    if (current) current.replaceWith(card);
    else cards.append(card);
    refresh();
  };

  /** @param {BoundSessionRecord} record */
  async function terminate(record) {
    /** @type {unknown} */
    let sessionError = null;
    const admin = context.isAdmin;
    const done = await openDialog({
      title: admin ? `Terminate the session of ${browserOf(record)}?` : `Sign out ${browserOf(record)}?`,
      description:
        "Its cookie stops working at once and the browser cannot renew it: that browser is signed out. " +
        "Its device keys are not affected.",
      fields: admin ? [{ name: "reason", label: "Reason (optional)", maxLength: 256 }] : [],
      confirmLabel: admin ? "Terminate session" : "Sign out this browser",
      danger: true,
      action: async ({ reason }) => {
        const options = reason?.trim() ? { reason: reason.trim() } : {};
        show(await context.api.terminateBoundSession(context.userId, record.session_id, options));
        announce(`Ended the session of ${browserOf(record)}.`);
      },
      failure: (error) => {
        if (endsSession(error)) {
          sessionError = error;
          return null;
        }
        return describeFailure(error);
      },
    });
    if (sessionError !== null) {
      context.endSession(sessionError);
      return;
    }
    if (done) heading.focus();
  }

  for (const record of [...(records ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at))) show(record);
  refresh();
  return h(
    "section",
    { class: "session-list", "aria-labelledby": headingId },
    h("div", { class: "list-header" }, h("div", {}, heading, records && summary)),
    records
      ? empty
      : h("p", { class: "state" }, "The bound sessions could not be loaded. Refresh to try again."),
    cards,
  );
}

/**
 * @param {SessionListContext} context
 * @param {BoundSessionRecord} record
 * @param {(record: BoundSessionRecord) => Promise<void>} terminate
 */
function sessionCard(context, record, terminate) {
  const titleId = uniqueId("session-title");
  const active = record.status === "active";
  const thisBrowser = record.session_id === context.thisSessionId;
  const label = context.isAdmin ? "Terminate" : "Sign out";
  return h(
    "article",
    { class: `device session${active ? "" : " blocked"}`, "aria-labelledby": titleId, "data-session-id": record.session_id },
    h(
      "div",
      { class: "device-title" },
      h("h3", { id: titleId }, browserOf(record)),
      h("span", { class: `status ${active ? "active" : "blocked"}` }, active ? "Active" : "Ended"),
      thisBrowser && h("span", { class: "this-browser" }, "This browser"),
    ),
    h(
      "dl",
      {},
      detail("Session", h("code", { class: "key-id" }, record.session_id.slice(-22))),
      detail("Key", record.alg),
      detail("Started", time(record.created_at)),
      detail("Last renewed", record.last_refreshed_at ? time(record.last_refreshed_at) : "Not yet"),
      detail("Renewals", String(record.refresh_count)),
      active
        ? detail("Expires if idle", time(record.expires_at))
        : detail("Ended on", record.terminated_at ? time(record.terminated_at) : "Expired"),
      !active && record.terminated_reason && detail("Reason", record.terminated_reason),
    ),
    active &&
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { type: "button", class: "danger-outline", "aria-describedby": titleId, onclick: () => terminate(record) },
          label,
        ),
      ),
  );
}

/**
 * @param {string} term
 * @param {string | Node} description
 */
function detail(term, description) {
  return h("div", {}, h("dt", {}, term), h("dd", {}, description));
}

/**
 * "Chrome 156 on Linux", from the User-Agent the browser registered with.
 * @param {BoundSessionRecord} record
 */
export function browserOf(record) {
  const agent = record.user_agent ?? "";
  const edge = /Edg\/(\d+)/.exec(agent);
  const chrome = /Chrom(?:e|ium)\/(\d+)/.exec(agent);
  const browser = edge ? `Edge ${edge[1]}` : chrome ? `Chrome ${chrome[1]}` : "A browser";
  const systems = [
    ["Windows", "Windows"],
    ["Android", "Android"],
    ["CrOS", "ChromeOS"],
    ["Mac OS X", "macOS"],
    ["Linux", "Linux"],
  ];
  const system = systems.find(([needle]) => agent.includes(needle))?.[1];
  return system ? `${browser} on ${system}` : browser;
}
