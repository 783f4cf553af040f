// @ts-check
/**
 * A user's device keys as cards, and what may be done to each: an administrator renames, edits
 * custom data, blocks, unblocks and deletes; a user renames and deletes their own (not a blocked
 * one: that is an administrator's decision, docs/protocol.md section 7). Each change is confirmed
 * in a dialog, sent through the SDK, and shown in place from the API's answer.
 */

import { DeviceKeysError } from "/sdk/devicekeys.js";
import { openDialog } from "./dialog.js";
import { announce, h, time, uniqueId } from "./dom.js";
import { describeFailure, endsSession } from "./messages.js";

/**
 * @typedef {import("/sdk/devicekeys.js").DeviceKeyRecord} DeviceKeyRecord
 * @typedef {import("/sdk/devicekeys.js").DeviceKeysApi} DeviceKeysApi
 */

/**
 * @typedef {object} DeviceListContext
 * @property {DeviceKeysApi} api
 * @property {string} userId whose keys: a user id, or "me"
 * @property {string} heading e.g. "My devices", "Devices of alice"
 * @property {boolean} isAdmin the session holds the admin scope
 * @property {string | null} thisKeyId this browser's key_id, if it has a device key
 * @property {() => void} reload fetch the list again
 * @property {(error: unknown) => void} endSession the API refused the session's token: sign out, and say why
 */

const CUSTOM_DATA_MAX_BYTES = 4096; // docs/protocol.md, section 9
const NAME_MAX_CHARACTERS = 64;

/**
 * The list section for `records`.
 * @param {DeviceListContext} context
 * @param {DeviceKeyRecord[]} records
 * @returns {HTMLElement}
 */
export function deviceList(context, records) {
  /** @type {Map<string, DeviceKeyRecord>} */
  const byKeyId = new Map(records.map((record) => [record.key_id, record]));
  const headingId = uniqueId("device-list");
  const heading = h("h1", { id: headingId, tabindex: -1 }, context.heading);
  const summary = h("p", { class: "summary" });
  const cards = h("div", { class: "devices" });
  const empty = h(
    "p",
    { class: "state empty" },
    context.userId === "me"
      ? "You have no device keys yet. A device appears here once an app registers it for you."
      : "This user has no device keys.",
  );

  const refresh = () => {
    const all = Array.from(byKeyId.values());
    const blocked = all.filter((record) => record.status === "blocked").length;
    summary.textContent =
      `${all.length} device ${all.length === 1 ? "key" : "keys"}` + (blocked ? `, ${blocked} blocked` : "");
    empty.hidden = all.length > 0;
  };

  /** @param {string} keyId */
  const cardOf = (keyId) => cards.querySelector(`[data-key-id="${CSS.escape(keyId)}"]`);

  /** @param {DeviceKeyRecord} record */
  const show = (record) => {
    byKeyId.set(record.key_id, record);
    const card = deviceCard(context, record, actions);
    const current = cardOf(record.key_id);
    if (current) current.replaceWith(card);
    else cards.append(card);
    refresh();
  };

  /** @param {DeviceKeyRecord} record */
  const remove = (record) => {
    byKeyId.delete(record.key_id);
    cardOf(record.key_id)?.remove();
    refresh();
  };

  /**
   * Confirm and run one action on `record` in a dialog. A refusal is shown in the dialog; a key
   * that is gone meanwhile leaves the list; a session that ended is the page's to show, once the
   * dialog has closed. Then the focus goes to `focusAfter`'s button on the redrawn card (or the
   * heading, when the card is gone).
   * @param {DeviceKeyRecord} record
   * @param {Omit<import("./dialog.js").DialogOptions, "failure">} dialog
   * @param {(done: boolean) => string} focusAfter the button's action, from whether the action was done
   */
  const confirm = async (record, dialog, focusAfter) => {
    /** @type {unknown} */
    let sessionError = null;
    const done = await openDialog({
      ...dialog,
      failure: (error) => {
        if (endsSession(error)) {
          sessionError = error;
          return null;
        }
        if (error instanceof DeviceKeysError && error.code === "device_not_found") {
          remove(record);
          announce(`${nameOf(record)} no longer exists: someone removed it meanwhile.`);
          return null;
        }
        return describeFailure(error);
      },
    });
    if (sessionError !== null) {
      context.endSession(sessionError);
      return;
    }
    const button = /** @type {HTMLElement | null | undefined} */ (
      cardOf(record.key_id)?.querySelector(`[data-action="${focusAfter(done)}"]`)
    );
    (button ?? heading).focus();
  };

  /** @type {CardActions} */
  const actions = {
    rename: (record) =>
      confirm(
        record,
        {
          title: `Rename ${nameOf(record)}`,
          fields: [
            {
              name: "name",
              label: "Name",
              value: record.display_name ?? "",
              maxLength: NAME_MAX_CHARACTERS,
              required: true,
              hint: `Shown in device lists: 1 to ${NAME_MAX_CHARACTERS} characters.`,
            },
          ],
          confirmLabel: "Rename",
          validate: ({ name }) => {
            const length = [...name.trim()].length;
            return length >= 1 && length <= NAME_MAX_CHARACTERS
              ? null
              : { field: "name", message: `A name is 1 to ${NAME_MAX_CHARACTERS} characters.` };
          },
          action: async ({ name }) => {
            show(await context.api.rename(context.userId, record.key_id, name.trim()));
            announce(`Renamed to ${name.trim()}.`);
          },
        },
        () => "rename",
      ),
    editCustomData: (record) =>
      confirm(
        record,
        {
          title: `Custom data of ${nameOf(record)}`,
          fields: [
            {
              name: "customData",
              label: "Custom data (JSON object)",
              type: "textarea",
              value: record.custom_data === null ? "" : JSON.stringify(record.custom_data, null, 2),
              hint: "Replaces the whole object; empty removes it. At most 4 KiB.",
            },
          ],
          confirmLabel: "Save",
          validate: ({ customData }) => {
            const parsed = parseCustomData(customData);
            return "problem" in parsed ? { field: "customData", message: parsed.problem } : null;
          },
          action: async ({ customData }) => {
            const { value } = /** @type {{ value: Record<string, unknown> | null }} */ (parseCustomData(customData));
            show(await context.api.update(context.userId, record.key_id, { customData: value }));
            announce(`Saved the custom data of ${nameOf(record)}.`);
          },
        },
        () => "custom-data",
      ),
    block: (record) =>
      confirm(
        record,
        {
          title: `Block ${nameOf(record)}?`,
          description:
            "A blocked device fails verification and cannot be registered again. It stays listed; only an " +
            "administrator can unblock or delete it.",
          fields: [
            {
              name: "reason",
              label: "Reason (optional)",
              maxLength: 256,
              hint: "Shown to administrators and to the user, e.g. “reported stolen”.",
            },
          ],
          confirmLabel: "Block device",
          danger: true,
          action: async ({ reason }) => {
            const options = reason.trim() ? { reason: reason.trim() } : {};
            show(await context.api.block(context.userId, record.key_id, options));
            announce(`Blocked ${nameOf(record)}.`);
          },
        },
        (blocked) => (blocked ? "unblock" : "block"),
      ),
    unblock: (record) =>
      confirm(
        record,
        {
          title: `Unblock ${nameOf(record)}?`,
          description: "The device is recognised again the next time it signs in.",
          confirmLabel: "Unblock device",
          action: async () => {
            show(await context.api.unblock(context.userId, record.key_id));
            announce(`Unblocked ${nameOf(record)}.`);
          },
        },
        (unblocked) => (unblocked ? "block" : "unblock"),
      ),
    delete: (record) =>
      confirm(
        record,
        {
          title: `Delete ${nameOf(record)}?`,
          description:
            "The device key is forgotten: the device is new the next time it shows up, and must be registered again.",
          confirmLabel: "Delete device",
          danger: true,
          action: async () => {
            await context.api.delete(context.userId, record.key_id);
            remove(record);
            announce(`Deleted ${nameOf(record)}.`);
          },
        },
        () => "delete",
      ),
  };

  for (const record of sortedForDisplay(records, context.thisKeyId)) show(record);
  refresh();
  const refreshButton = h("button", { type: "button", class: "secondary", onclick: () => context.reload() }, "Refresh");
  return h(
    "section",
    { class: "device-list", "aria-labelledby": headingId },
    h("div", { class: "list-header" }, h("div", {}, heading, summary), refreshButton),
    empty,
    cards,
  );
}

/**
 * What each button of a card does.
 * @typedef {Record<"rename" | "editCustomData" | "block" | "unblock" | "delete",
 *   (record: DeviceKeyRecord) => Promise<void>>} CardActions
 */

/**
 * @param {DeviceListContext} context
 * @param {DeviceKeyRecord} record
 * @param {CardActions} actions
 */
function deviceCard(context, record, actions) {
  const nameId = uniqueId("device-name");
  const blocked = record.status === "blocked";
  const isThisBrowser = record.key_id === context.thisKeyId;

  /** @param {string} label @param {string} action @param {() => void} onclick @param {string} [style] */
  const button = (label, action, onclick, style = "secondary") =>
    h("button", { type: "button", class: style, "data-action": action, "aria-describedby": nameId, onclick }, label);

  const buttons = [button("Rename", "rename", () => actions.rename(record))];
  if (context.isAdmin) {
    buttons.push(button("Edit custom data", "custom-data", () => actions.editCustomData(record)));
    buttons.push(
      blocked
        ? button("Unblock", "unblock", () => actions.unblock(record))
        : button("Block", "block", () => actions.block(record), "danger-outline"),
    );
  }
  if (context.isAdmin || !blocked) {
    buttons.push(button("Delete", "delete", () => actions.delete(record), "danger-outline"));
  }

  return h(
    "article",
    { class: `device${blocked ? " blocked" : ""}`, "aria-labelledby": nameId, "data-key-id": record.key_id },
    h(
      "div",
      { class: "device-title" },
      h("h2", { id: nameId, class: record.display_name ? null : "unnamed" }, nameOf(record)),
      h("span", { class: `status ${record.status}` }, blocked ? "Blocked" : "Active"),
      isThisBrowser && h("span", { class: "this-browser" }, "This browser"),
    ),
    h(
      "dl",
      {},
      detail("Key ID", h("code", { class: "key-id" }, record.key_id)),
      detail("Algorithm", record.alg),
      detail("Created", time(record.created_at)),
      detail("Last verified", record.last_verified_at ? time(record.last_verified_at) : "Never"),
      blocked && detail("Blocked on", record.blocked_at ? time(record.blocked_at) : "Unknown"),
      blocked && detail("Block reason", record.blocked_reason ?? "None given"),
      detail(
        "Custom data",
        record.custom_data === null
          ? "None"
          : h("pre", { class: "custom-data" }, JSON.stringify(record.custom_data, null, 2)),
      ),
    ),
    blocked &&
      !context.isAdmin &&
      h(
        "p",
        { class: "blocked-note" },
        "An administrator blocked this device: it cannot sign in, and only an administrator can unblock or delete it.",
      ),
    h("div", { class: "actions" }, buttons),
  );
}

/**
 * @param {string} term
 * @param {string | Node} description
 */
function detail(term, description) {
  return h("div", {}, h("dt", {}, term), h("dd", {}, description));
}

/** @param {DeviceKeyRecord} record */
function nameOf(record) {
  return record.display_name ?? "Unnamed device";
}

/**
 * This browser first, then the newest first.
 * @param {DeviceKeyRecord[]} records
 * @param {string | null} thisKeyId
 */
function sortedForDisplay(records, thisKeyId) {
  return [...records].sort(
    (a, b) =>
      Number(b.key_id === thisKeyId) - Number(a.key_id === thisKeyId) || b.created_at.localeCompare(a.created_at),
  );
}

/**
 * The custom data a dialog's text stands for: a JSON object, or null (empty text) to remove it.
 * @param {string} text
 * @returns {{ value: Record<string, unknown> | null } | { problem: string }}
 */
function parseCustomData(text) {
  if (!text.trim()) return { value: null };
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `This is not valid JSON: ${error instanceof Error ? error.message : error}.` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problem: "Custom data is a JSON object, like {\"team\": \"sales\"}." };
  }
  const size = new TextEncoder().encode(JSON.stringify(value)).length;
  if (size > CUSTOM_DATA_MAX_BYTES) {
    return { problem: `Custom data is at most 4 KiB; this is ${size} bytes.` };
  }
  return { value };
}
