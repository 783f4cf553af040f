/**
 * @import { SignatureAlgorithm } from "./algorithms.js"
 * @import { Connection } from "./http.js"
 * @import { PublicJwk } from "./jwk.js"
 * @import { Purpose } from "./proof.js"
 * @import { DeviceKeyRecord, JourneyOutcome, Verification } from "./records.js"
 * @import { StoredKey } from "./store.js"
 */
/**
 * @typedef {object} DeviceKeysOptions
 * @property {string} baseUrl the API's root URL, e.g. `https://api.example.com` or `http://127.0.0.1:3000`
 * @property {SignatureAlgorithm} [algorithm] for a new key: "ES256" (default, every
 *   browser) or "Ed25519" (recent browsers); a key already stored keeps its own
 * @property {string} [namespace] which of the app's device keys this is (default "default")
 * @property {string} [audience] the proofs' `aud`, when the deployment sets `ProofAudience`
 * @property {number} [timeout] milliseconds before an API call fails with `network_error` (default 10 000)
 */
/**
 * @typedef {object} RegisterOptions
 * @property {string} token the user's (or an admin's) access token
 * @property {string} [displayName] 1 to 64 characters, shown in device lists
 * @property {Record<string, unknown>} [customData] any JSON object up to 4 KiB
 */
export class DeviceKeys {
    /** @param {DeviceKeysOptions} options */
    constructor({ baseUrl, algorithm, namespace, audience, timeout }: DeviceKeysOptions);
    /** Whether this browser holds a device key in this namespace. */
    hasKey(): Promise<boolean>;
    /**
     * This device's `key_id` (its public key's RFC 7638 thumbprint, the service's id for it), or
     * null before the first key is made.
     * @returns {Promise<string | null>}
     */
    keyId(): Promise<string | null>;
    /**
     * The public key as a JWK of its RFC 7638 members, or null before the first key is made.
     * @returns {Promise<PublicJwk | null>}
     */
    publicJwk(): Promise<PublicJwk | null>;
    /**
     * Register this device for the user, making its key pair first if it has none.
     * @param {string} userId
     * @param {RegisterOptions} options
     * @returns {Promise<DeviceKeyRecord>} the new record
     * @throws {DeviceKeysError} `device_key_exists`, `device_blocked`, `device_limit_reached`,
     *   `unauthorized`, `forbidden`, `invalid_request`, `payload_too_large`, `unsupported_algorithm`, ...
     */
    register(userId: string, { token, displayName, customData }: RegisterOptions): Promise<DeviceKeyRecord>;
    /**
     * Is this a known device of the user? Signs a fresh verify challenge and asks the API (an open
     * route: the proof is the credential). Resolves only for an active, registered key.
     * @param {string} userId
     * @returns {Promise<Verification>}
     * @throws {DeviceKeysError} `device_not_found` (not registered for this user, or no such user),
     *   `device_blocked`, `no_device_key`, `challenge_expired`, `challenge_not_found`, `invalid_proof`,
     *   `network_error`, ...
     */
    verify(userId: string): Promise<Verification>;
    /**
     * `verify`, as a boolean: false for a device that is not known, blocked, or has no key yet.
     * Other failures (the network, the API) still throw: they say nothing about the device.
     * @param {string} userId
     * @returns {Promise<boolean>}
     */
    isKnownDevice(userId: string): Promise<boolean>;
    /**
     * Replace this device's key pair by a new one, keeping its record on the service (display name,
     * custom data, creation time): for a key that may have been copied, or on a schedule. From the
     * moment this resolves only the new key is this device. The new key is kept aside until the
     * API has accepted it, so an answer lost on the way is recovered by the next `rotate` or
     * `verify`, never a device locked out.
     * @param {string} userId
     * @param {{ token: string }} options the user's (or an admin's) access token
     * @returns {Promise<DeviceKeyRecord>} the record, under the new `key_id`
     * @throws {DeviceKeysError} `no_device_key`, `device_blocked` (a blocked key cannot rotate),
     *   `device_expired`, `device_not_found`, `unauthorized`, `forbidden`, `network_error`, ...
     */
    rotate(userId: string, { token }: {
        token: string;
    }): Promise<DeviceKeyRecord>;
    /**
     * Keep this device and sign the user out of every other one: the `sign-out-other-devices`
     * journey removes the user's other active keys (blocked ones stay, for an administrator),
     * once this device has proved itself. A device that is not known removes nothing.
     * @param {string} userId
     * @param {{ token: string }} options the user's access token (the journey runs for its user)
     * @returns {Promise<JourneyOutcome>} `{ outcome: "signed_out", removed, key_id }`, or
     *   `{ outcome: "rejected", reason }` (`reason`: an API error code)
     * @throws {DeviceKeysError} `no_device_key`, `unauthorized`, `network_error`, ...
     */
    signOutOtherDevices(userId: string, { token }: {
        token: string;
    }): Promise<JourneyOutcome>;
    /**
     * A proof over a fresh challenge, for an app whose backend sends it on (a journey, its own call
     * to the API). A register proof makes the key pair first if there is none.
     * @param {string} userId the user the proof is for (its `sub`); not "me": challenges are issued without a token
     * @param {Purpose} purpose
     * @returns {Promise<string>} a compact JWS, good for one use before its challenge expires
     * @throws {DeviceKeysError} `no_device_key` (a verify proof without a key), `unsupported_algorithm`,
     *   `network_error`, ...
     */
    proof(userId: string, purpose: Purpose): Promise<string>;
    /**
     * Keep a value next to the device key (e.g. the user's id, to recognise them on their next visit).
     * @param {string} name
     * @param {unknown} value anything IndexedDB stores (structured clone): JSON values, Dates, Blobs...
     */
    saveData(name: string, value: unknown): Promise<void>;
    /**
     * @template [T=unknown]
     * @param {string} name
     * @returns {Promise<T | null>} null when nothing is saved under `name`
     */
    loadData<T = unknown>(name: string): Promise<T | null>;
    /** @param {string} name */
    removeData(name: string): Promise<void>;
    /**
     * Delete this device's key pair and saved data from the browser. The API is not called: the
     * key stays registered until deleted there (`DeviceKeysApi.delete`), and since no one holds its
     * private key any more, it can never verify again. The next `register` makes a new key.
     */
    forget(): Promise<void>;
    #private;
}
export type DeviceKeysOptions = {
    /**
     * the API's root URL, e.g. `https://api.example.com` or `http://127.0.0.1:3000`
     */
    baseUrl: string;
    /**
     * for a new key: "ES256" (default, every
     * browser) or "Ed25519" (recent browsers); a key already stored keeps its own
     */
    algorithm?: SignatureAlgorithm | undefined;
    /**
     * which of the app's device keys this is (default "default")
     */
    namespace?: string | undefined;
    /**
     * the proofs' `aud`, when the deployment sets `ProofAudience`
     */
    audience?: string | undefined;
    /**
     * milliseconds before an API call fails with `network_error` (default 10 000)
     */
    timeout?: number | undefined;
};
export type RegisterOptions = {
    /**
     * the user's (or an admin's) access token
     */
    token: string;
    /**
     * 1 to 64 characters, shown in device lists
     */
    displayName?: string | undefined;
    /**
     * any JSON object up to 4 KiB
     */
    customData?: Record<string, unknown> | undefined;
};
import type { PublicJwk } from "./jwk.js";
import type { DeviceKeyRecord } from "./records.js";
import type { Verification } from "./records.js";
import type { JourneyOutcome } from "./records.js";
import type { Purpose } from "./proof.js";
import type { SignatureAlgorithm } from "./algorithms.js";
