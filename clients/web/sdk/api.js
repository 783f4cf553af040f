// @ts-check
/**
 * `DeviceKeysApi`: a user's device keys through the API, with the user's own access token or an
 * administrator's (docs/protocol.md, sections 6 and 7). `userId` may be "me": the token's user.
 */

import { DEFAULT_TIMEOUT_MS, callApi, checkBaseUrl, userKeysPath, userSessionsPath } from "./http.js";

/**
 * @import { Connection } from "./http.js"
 * @import { BoundSessionPage, BoundSessionRecord, DeviceKeyPage, DeviceKeyRecord, JourneyOutcome,
 *   SessionRegistration } from "./records.js"
 */

/** @typedef {"active" | "blocked"} DeviceKeyStatus */

/**
 * @typedef {object} DeviceKeysApiOptions
 * @property {string} baseUrl the API's root URL
 * @property {string} token an access token: the user's, or one with the admin scope
 * @property {number} [timeout] milliseconds before a call fails with `network_error` (default 10 000)
 */

export class DeviceKeysApi {
  /** @type {Connection} */
  #api;

  /** @param {DeviceKeysApiOptions} options */
  constructor({ baseUrl, token, timeout = DEFAULT_TIMEOUT_MS }) {
    this.#api = { baseUrl: checkBaseUrl(baseUrl), token, timeout };
  }

  /**
   * One page of the user's device keys, oldest key_id first.
   * @param {string} userId
   * @param {{ status?: DeviceKeyStatus, limit?: number, nextToken?: string | null }} [options]
   *   `limit`: 1 to 100 keys a page (default 100); `nextToken`: the previous page's `next_token`
   * @returns {Promise<DeviceKeyPage>}
   */
  list(userId, { status, limit, nextToken } = {}) {
    const query = { status, limit, next_token: nextToken };
    return callApi(this.#api, "GET", userKeysPath(userId), { query });
  }

  /**
   * Every device key of the user, following `next_token` page after page.
   * @param {string} userId
   * @param {{ status?: DeviceKeyStatus }} [options]
   * @returns {Promise<DeviceKeyRecord[]>}
   */
  async listAll(userId, { status } = {}) {
    const keys = [];
    let nextToken = null;
    do {
      const page = await this.list(userId, { status, nextToken });
      keys.push(...page.device_keys);
      nextToken = page.next_token;
    } while (nextToken);
    return keys;
  }

  /**
   * How many device keys the user has (blocked ones included unless `status` says otherwise).
   * @param {string} userId
   * @param {{ status?: DeviceKeyStatus }} [options]
   * @returns {Promise<number>}
   */
  async count(userId, options) {
    return (await this.listAll(userId, options)).length;
  }

  /**
   * @param {string} userId
   * @param {string} keyId
   * @returns {Promise<DeviceKeyRecord>}
   * @throws {DeviceKeysError} `device_not_found`, `forbidden`, `unauthorized`, ...
   */
  get(userId, keyId) {
    return callApi(this.#api, "GET", userKeysPath(userId, keyId));
  }

  /**
   * Rename and/or enrich a key. A field left out stays as it is, `null` clears it, and
   * `customData` replaces the whole object.
   * @param {string} userId
   * @param {string} keyId
   * @param {{ displayName?: string | null, customData?: Record<string, unknown> | null }} changes
   * @returns {Promise<DeviceKeyRecord>}
   * @throws {DeviceKeysError} `invalid_request` (no change, or text outside the rules), `device_not_found`,
   *   `forbidden`, ...
   */
  update(userId, keyId, { displayName, customData }) {
    const body = { display_name: displayName, custom_data: customData }; // JSON leaves out undefined members
    return callApi(this.#api, "PATCH", userKeysPath(userId, keyId), { body });
  }

  /**
   * @param {string} userId
   * @param {string} keyId
   * @param {string | null} displayName null removes the name
   * @returns {Promise<DeviceKeyRecord>}
   */
  rename(userId, keyId, displayName) {
    return this.update(userId, keyId, { displayName });
  }

  /**
   * Block a key (admin token): it stays listed and counted, and fails verification until an
   * administrator unblocks it.
   * @param {string} userId
   * @param {string} keyId
   * @param {{ reason?: string }} [options]
   * @returns {Promise<DeviceKeyRecord>}
   * @throws {DeviceKeysError} `forbidden` without the admin scope, `device_not_found`, ...
   */
  block(userId, keyId, { reason } = {}) {
    return callApi(this.#api, "POST", userKeysPath(userId, keyId, "block"), { body: { reason } });
  }

  /**
   * @param {string} userId
   * @param {string} keyId
   * @returns {Promise<DeviceKeyRecord>}
   * @throws {DeviceKeysError} `forbidden` without the admin scope, `device_not_found`, ...
   */
  unblock(userId, keyId) {
    return callApi(this.#api, "POST", userKeysPath(userId, keyId, "unblock"));
  }

  /**
   * Forget a key on the service: the device is new the next time it shows up. A blocked key can
   * be deleted by an administrator only.
   * @param {string} userId
   * @param {string} keyId
   * @returns {Promise<void>}
   * @throws {DeviceKeysError} `device_blocked` (a user deleting a blocked key), `device_not_found`, ...
   */
  async delete(userId, keyId) {
    await callApi(this.#api, "DELETE", userKeysPath(userId, keyId));
  }

  /**
   * Start a journey (`POST /v1/journeys/{name}`) with a body you built (docs/journeys.md): an
   * authenticated journey runs for the token's user; business results, a refusal or a step-up
   * included, are outcomes, not errors.
   * @param {string} name e.g. "known-device-step-up"
   * @param {Record<string, unknown>} [body] e.g. `{ proof: await device.proof(userId, "verify") }`
   * @returns {Promise<JourneyOutcome>}
   * @throws {DeviceKeysError} `invalid_request` (a body the journey does not take), `not_found` (no such
   *   journey), `unauthorized`, ...
   */
  startJourney(name, body = {}) {
    return callApi(this.#api, "POST", `/v1/journeys/${encodeURIComponent(name)}`, { body });
  }

  /**
   * Start a device-bound session (DBSC, docs/dbsc.md) for the token's user. Called from the app's own
   * origin (`baseUrl` is where the app routes `/dbsc/*` and this API), the answer's
   * `Secure-Session-Registration` header makes a browser that supports DBSC register a session key
   * by itself; the bound cookie follows. Also resolves with the header, for a backend to pass on.
   * @param {string} userId the signed-in user (their own token: nobody starts one for someone else)
   * @returns {Promise<SessionRegistration>}
   * @throws {DeviceKeysError} `forbidden` (another user), `unauthorized`, ...
   */
  startBoundSession(userId) {
    return callApi(this.#api, "POST", userSessionsPath(userId, "registrations"), { body: {} });
  }

  /**
   * One page of the user's bound sessions (active and ended, until they expire).
   * @param {string} userId
   * @param {{ limit?: number, nextToken?: string | null }} [options]
   * @returns {Promise<BoundSessionPage>}
   */
  listBoundSessions(userId, { limit, nextToken } = {}) {
    return callApi(this.#api, "GET", userSessionsPath(userId), { query: { limit, next_token: nextToken } });
  }

  /**
   * Every bound session of the user, following `next_token`.
   * @param {string} userId
   * @returns {Promise<BoundSessionRecord[]>}
   */
  async listAllBoundSessions(userId) {
    const sessions = [];
    let nextToken = null;
    do {
      const page = await this.listBoundSessions(userId, { nextToken });
      sessions.push(...page.sessions);
      nextToken = page.next_token;
    } while (nextToken);
    return sessions;
  }

  /**
   * End a bound session (the user signing out one browser, or an administrator blocking it): its
   * cookie stops working at once, and its next refresh fails, which ends it in the browser.
   * @param {string} userId
   * @param {string} sessionId
   * @param {{ reason?: string }} [options]
   * @returns {Promise<BoundSessionRecord>}
   * @throws {DeviceKeysError} `session_not_found`, `forbidden`, ...
   */
  terminateBoundSession(userId, sessionId, { reason } = {}) {
    return callApi(this.#api, "POST", userSessionsPath(userId, sessionId, "terminate"), { body: { reason } });
  }
}
