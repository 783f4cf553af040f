/**
 * @import { Connection } from "./http.js"
 * @import { BoundSessionInfo, BoundSessionRecord } from "./records.js"
 */
export class BoundSession {
    /** @param {{ baseUrl: string, timeout?: number }} options `baseUrl`: the app's origin */
    constructor({ baseUrl, timeout }: {
        baseUrl: string;
        timeout?: number;
    });
    /**
     * Whose bound session this browser holds, as the bound-session authorizer sees it
     * (`GET /dbsc/session`), or null when it holds none (no cookie, or one the authorizer refuses).
     * @returns {Promise<BoundSessionInfo | null>}
     * @throws {DeviceKeysError} `network_error`, `service_unavailable`, ...
     */
    current(): Promise<BoundSessionInfo | null>;
    /**
     * Sign out: end the session this browser's cookie names (`POST /dbsc/logout`) and drop the cookie.
     * @returns {Promise<BoundSessionRecord | null>} the ended session, or null when there was none
     * @throws {DeviceKeysError} `network_error`, `service_unavailable`, ...
     */
    end(): Promise<BoundSessionRecord | null>;
    #private;
}
import type { BoundSessionInfo } from "./records.js";
import type { BoundSessionRecord } from "./records.js";
