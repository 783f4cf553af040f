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
    /** @param {DeviceKeysApiOptions} options */
    constructor({ baseUrl, token, timeout }: DeviceKeysApiOptions);
    /**
     * One page of the user's device keys, oldest key_id first.
     * @param {string} userId
     * @param {{ status?: DeviceKeyStatus, limit?: number, nextToken?: string | null }} [options]
     *   `limit`: 1 to 100 keys a page (default 100); `nextToken`: the previous page's `next_token`
     * @returns {Promise<DeviceKeyPage>}
     */
    list(userId: string, { status, limit, nextToken }?: {
        status?: DeviceKeyStatus;
        limit?: number;
        nextToken?: string | null;
    }): Promise<DeviceKeyPage>;
    /**
     * Every device key of the user, following `next_token` page after page.
     * @param {string} userId
     * @param {{ status?: DeviceKeyStatus }} [options]
     * @returns {Promise<DeviceKeyRecord[]>}
     */
    listAll(userId: string, { status }?: {
        status?: DeviceKeyStatus;
    }): Promise<DeviceKeyRecord[]>;
    /**
     * How many device keys the user has (blocked ones included unless `status` says otherwise).
     * @param {string} userId
     * @param {{ status?: DeviceKeyStatus }} [options]
     * @returns {Promise<number>}
     */
    count(userId: string, options?: {
        status?: DeviceKeyStatus;
    }): Promise<number>;
    /**
     * @param {string} userId
     * @param {string} keyId
     * @returns {Promise<DeviceKeyRecord>}
     * @throws {DeviceKeysError} `device_not_found`, `forbidden`, `unauthorized`, ...
     */
    get(userId: string, keyId: string): Promise<DeviceKeyRecord>;
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
    update(userId: string, keyId: string, { displayName, customData }: {
        displayName?: string | null;
        customData?: Record<string, unknown> | null;
    }): Promise<DeviceKeyRecord>;
    /**
     * @param {string} userId
     * @param {string} keyId
     * @param {string | null} displayName null removes the name
     * @returns {Promise<DeviceKeyRecord>}
     */
    rename(userId: string, keyId: string, displayName: string | null): Promise<DeviceKeyRecord>;
    /**
     * Block a key (admin token): it stays listed and counted, and fails verification until an
     * administrator unblocks it.
     * @param {string} userId
     * @param {string} keyId
     * @param {{ reason?: string }} [options]
     * @returns {Promise<DeviceKeyRecord>}
     * @throws {DeviceKeysError} `forbidden` without the admin scope, `device_not_found`, ...
     */
    block(userId: string, keyId: string, { reason }?: {
        reason?: string;
    }): Promise<DeviceKeyRecord>;
    /**
     * @param {string} userId
     * @param {string} keyId
     * @returns {Promise<DeviceKeyRecord>}
     * @throws {DeviceKeysError} `forbidden` without the admin scope, `device_not_found`, ...
     */
    unblock(userId: string, keyId: string): Promise<DeviceKeyRecord>;
    /**
     * Forget a key on the service: the device is new the next time it shows up. A blocked key can
     * be deleted by an administrator only.
     * @param {string} userId
     * @param {string} keyId
     * @returns {Promise<void>}
     * @throws {DeviceKeysError} `device_blocked` (a user deleting a blocked key), `device_not_found`, ...
     */
    delete(userId: string, keyId: string): Promise<void>;
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
    startJourney(name: string, body?: Record<string, unknown>): Promise<JourneyOutcome>;
    /**
     * Start a device-bound session (DBSC, docs/dbsc.md) for the token's user. Called from the app's own
     * origin (`baseUrl` is where the app routes `/dbsc/*` and this API), the answer's
     * `Secure-Session-Registration` header makes a browser that supports DBSC register a session key
     * by itself; the bound cookie follows. Also resolves with the header, for a backend to pass on.
     * @param {string} userId the signed-in user (their own token: nobody starts one for someone else)
     * @returns {Promise<SessionRegistration>}
     * @throws {DeviceKeysError} `forbidden` (another user), `unauthorized`, ...
     */
    startBoundSession(userId: string): Promise<SessionRegistration>;
    /**
     * One page of the user's bound sessions (active and ended, until they expire).
     * @param {string} userId
     * @param {{ limit?: number, nextToken?: string | null }} [options]
     * @returns {Promise<BoundSessionPage>}
     */
    listBoundSessions(userId: string, { limit, nextToken }?: {
        limit?: number;
        nextToken?: string | null;
    }): Promise<BoundSessionPage>;
    /**
     * Every bound session of the user, following `next_token`.
     * @param {string} userId
     * @returns {Promise<BoundSessionRecord[]>}
     */
    listAllBoundSessions(userId: string): Promise<BoundSessionRecord[]>;
    /**
     * End a bound session (the user signing out one browser, or an administrator blocking it): its
     * cookie stops working at once, and its next refresh fails, which ends it in the browser.
     * @param {string} userId
     * @param {string} sessionId
     * @param {{ reason?: string }} [options]
     * @returns {Promise<BoundSessionRecord>}
     * @throws {DeviceKeysError} `session_not_found`, `forbidden`, ...
     */
    terminateBoundSession(userId: string, sessionId: string, { reason }?: {
        reason?: string;
    }): Promise<BoundSessionRecord>;
    #private;
}
export type DeviceKeyStatus = "active" | "blocked";
export type DeviceKeysApiOptions = {
    /**
     * the API's root URL
     */
    baseUrl: string;
    /**
     * an access token: the user's, or one with the admin scope
     */
    token: string;
    /**
     * milliseconds before a call fails with `network_error` (default 10 000)
     */
    timeout?: number | undefined;
};
import type { DeviceKeyPage } from "./records.js";
import type { DeviceKeyRecord } from "./records.js";
import type { JourneyOutcome } from "./records.js";
import type { SessionRegistration } from "./records.js";
import type { BoundSessionPage } from "./records.js";
import type { BoundSessionRecord } from "./records.js";
