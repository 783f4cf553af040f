// @ts-check
/**
 * `BoundSession`: this browser's device-bound session (DBSC) with the app's origin. The browser
 * holds its key and refreshes the bound cookie itself; the page only asks whose session it is, and
 * signs out. Both calls send the origin's cookies, so `baseUrl` must be the app's own origin.
 */

import { DeviceKeysError } from "./errors.js";
import { DEFAULT_TIMEOUT_MS, callApi, checkBaseUrl } from "./http.js";

/**
 * @import { Connection } from "./http.js"
 * @import { BoundSessionInfo, BoundSessionRecord } from "./records.js"
 */

export class BoundSession {
  /** @type {Connection} */
  #origin;

  /** @param {{ baseUrl: string, timeout?: number }} options `baseUrl`: the app's origin */
  constructor({ baseUrl, timeout = DEFAULT_TIMEOUT_MS }) {
    this.#origin = { baseUrl: checkBaseUrl(baseUrl), timeout };
  }

  /**
   * Whose bound session this browser holds, as the bound-session authorizer sees it
   * (`GET /dbsc/session`), or null when it holds none (no cookie, or one the authorizer refuses).
   * @returns {Promise<BoundSessionInfo | null>}
   * @throws {DeviceKeysError} `network_error`, `service_unavailable`, ...
   */
  async current() {
    try {
      return await callApi(this.#origin, "GET", "/dbsc/session", { credentials: "same-origin" });
    } catch (error) {
      if (error instanceof DeviceKeysError && (error.status === 401 || error.status === 403)) return null;
      throw error;
    }
  }

  /**
   * Sign out: end the session this browser's cookie names (`POST /dbsc/logout`) and drop the cookie.
   * @returns {Promise<BoundSessionRecord | null>} the ended session, or null when there was none
   * @throws {DeviceKeysError} `network_error`, `service_unavailable`, ...
   */
  async end() {
    try {
      return await callApi(this.#origin, "POST", "/dbsc/logout", { credentials: "same-origin" });
    } catch (error) {
      if (error instanceof DeviceKeysError && error.code === "session_not_found") return null;
      throw error;
    }
  }
}
