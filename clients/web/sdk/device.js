// @ts-check
/**
 * `DeviceKeys`: this browser as a device. It keeps one key pair per app (origin) and namespace,
 * registers its public key for a user, and proves it holds the private key by signing one-time
 * challenges. The private key never leaves WebCrypto: nothing here can read or return it.
 */

import { checkAlgorithm, generateKeyPair } from "./algorithms.js";
import { DeviceKeysError, NOT_KNOWN_CODES } from "./errors.js";
import { DEFAULT_TIMEOUT_MS, callApi, checkBaseUrl, userKeysPath } from "./http.js";
import { exportPublicJwk, thumbprint } from "./jwk.js";
import { createProof } from "./proof.js";
import { KeyStore } from "./store.js";

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
  /** @type {Connection} */
  #api;
  #algorithm;
  #audience;
  #store;

  /** @param {DeviceKeysOptions} options */
  constructor({ baseUrl, algorithm = "ES256", namespace = "default", audience, timeout = DEFAULT_TIMEOUT_MS }) {
    this.#api = { baseUrl: checkBaseUrl(baseUrl), timeout };
    this.#algorithm = checkAlgorithm(algorithm);
    this.#audience = audience;
    this.#store = new KeyStore(namespace);
  }

  /** Whether this browser holds a device key in this namespace. */
  async hasKey() {
    return (await this.#store.getKey()) !== null;
  }

  /**
   * This device's `key_id` (its public key's RFC 7638 thumbprint, the service's id for it), or
   * null before the first key is made.
   * @returns {Promise<string | null>}
   */
  async keyId() {
    return (await this.#store.getKey())?.keyId ?? null;
  }

  /**
   * The public key as a JWK of its RFC 7638 members, or null before the first key is made.
   * @returns {Promise<PublicJwk | null>}
   */
  async publicJwk() {
    const key = await this.#store.getKey();
    return key ? { ...key.publicJwk } : null;
  }

  /**
   * Register this device for the user, making its key pair first if it has none.
   * @param {string} userId
   * @param {RegisterOptions} options
   * @returns {Promise<DeviceKeyRecord>} the new record
   * @throws {DeviceKeysError} `device_key_exists`, `device_blocked`, `device_limit_reached`,
   *   `unauthorized`, `forbidden`, `invalid_request`, `payload_too_large`, `unsupported_algorithm`, ...
   */
  async register(userId, { token, displayName, customData }) {
    const proof = await this.proof(userId, "register");
    const body = { proof, display_name: displayName, custom_data: customData };
    return callApi({ ...this.#api, token }, "POST", userKeysPath(userId), { body });
  }

  /**
   * Is this a known device of the user? Signs a fresh verify challenge and asks the API (an open
   * route: the proof is the credential). Resolves only for an active, registered key.
   * @param {string} userId
   * @returns {Promise<Verification>}
   * @throws {DeviceKeysError} `device_not_found` (not registered for this user, or no such user),
   *   `device_blocked`, `no_device_key`, `challenge_expired`, `challenge_not_found`, `invalid_proof`,
   *   `network_error`, ...
   */
  async verify(userId) {
    try {
      return await this.#verifyWith(await this.#existingKey(), userId);
    } catch (error) {
      if (!(error instanceof DeviceKeysError && error.code === "device_not_found")) throw error;
      const recovered = await this.#adoptPendingKey(userId); // a rotation whose answer was lost?
      if (recovered) return recovered;
      throw error;
    }
  }

  /**
   * `verify`, as a boolean: false for a device that is not known, blocked, or has no key yet.
   * Other failures (the network, the API) still throw: they say nothing about the device.
   * @param {string} userId
   * @returns {Promise<boolean>}
   */
  async isKnownDevice(userId) {
    try {
      await this.verify(userId);
      return true;
    } catch (error) {
      if (error instanceof DeviceKeysError && NOT_KNOWN_CODES.has(error.code)) return false;
      throw error;
    }
  }

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
  async rotate(userId, { token }) {
    const current = await this.#existingKey();
    const next =
      (await this.#store.getPendingKey()) ??
      (await this.#store.addPendingKeyUnlessPresent(await newKey(current.algorithm)));
    const challenge = await this.#challenge(userId, "rotate");
    const claims = { challenge, userId, purpose: /** @type {Purpose} */ ("rotate"), audience: this.#audience };
    const body = {
      proof: await createProof(current, claims),
      new_key_proof: await createProof(next, { ...claims, withPublicKey: true }),
    };
    try {
      const record = await callApi({ ...this.#api, token }, "POST", userKeysPath(userId, "rotate"), { body });
      await this.#store.promotePendingKey(next.keyId);
      return record;
    } catch (error) {
      if (!(error instanceof DeviceKeysError)) throw error;
      if (error.code === "device_not_found") {
        const recovered = await this.#adoptPendingKey(userId); // an earlier rotate did go through
        if (recovered) return recovered.device_key;
      } else if (error.status !== null && error.status < 500) {
        await this.#store.deletePendingKey(); // refused: the service never took the new key
      }
      throw error;
    }
  }

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
  async signOutOtherDevices(userId, { token }) {
    const proof = await this.proof(userId, "verify");
    return callApi({ ...this.#api, token }, "POST", "/v1/journeys/sign-out-other-devices", { body: { proof } });
  }

  /**
   * A proof over a fresh challenge, for an app whose backend sends it on (a journey, its own call
   * to the API). A register proof makes the key pair first if there is none.
   * @param {string} userId the user the proof is for (its `sub`); not "me": challenges are issued without a token
   * @param {Purpose} purpose
   * @returns {Promise<string>} a compact JWS, good for one use before its challenge expires
   * @throws {DeviceKeysError} `no_device_key` (a verify proof without a key), `unsupported_algorithm`,
   *   `network_error`, ...
   */
  async proof(userId, purpose) {
    const key = purpose === "register" ? await this.#keyOrNewKey() : await this.#existingKey();
    return this.#proofBy(key, userId, purpose);
  }

  /**
   * Keep a value next to the device key (e.g. the user's id, to recognise them on their next visit).
   * @param {string} name
   * @param {unknown} value anything IndexedDB stores (structured clone): JSON values, Dates, Blobs...
   */
  async saveData(name, value) {
    await this.#store.putData(name, value);
  }

  /**
   * @template [T=unknown]
   * @param {string} name
   * @returns {Promise<T | null>} null when nothing is saved under `name`
   */
  async loadData(name) {
    const value = await this.#store.getData(name);
    return value === undefined ? null : /** @type {T} */ (value);
  }

  /** @param {string} name */
  async removeData(name) {
    await this.#store.deleteData(name);
  }

  /**
   * Delete this device's key pair and saved data from the browser. The API is not called: the
   * key stays registered until deleted there (`DeviceKeysApi.delete`), and since no one holds its
   * private key any more, it can never verify again. The next `register` makes a new key.
   */
  async forget() {
    await this.#store.clear();
  }

  /**
   * @param {StoredKey} key
   * @param {string} userId
   * @param {Purpose} purpose
   */
  async #proofBy(key, userId, purpose) {
    const challenge = await this.#challenge(userId, purpose);
    return createProof(key, { challenge, userId, purpose, audience: this.#audience });
  }

  /**
   * @param {string} userId
   * @param {Purpose} purpose
   */
  async #challenge(userId, purpose) {
    const issued = await callApi(this.#api, "POST", userKeysPath(userId, "challenges"), { body: { purpose } });
    return { ...issued, receivedAt: performance.now() };
  }

  /**
   * @param {StoredKey} key
   * @param {string} userId
   * @returns {Promise<Verification>}
   */
  async #verifyWith(key, userId) {
    const proof = await this.#proofBy(key, userId, "verify");
    return callApi(this.#api, "POST", userKeysPath(userId, "verify"), { body: { proof } });
  }

  /**
   * The current key is not the user's: if a rotation's new key is pending and the service knows
   * it, the rotation went through and its answer was lost. Adopt the new key then; forget it if
   * the service does not know it either.
   * @param {string} userId
   * @returns {Promise<Verification | null>} the pending key's verification, or null (no pending key)
   */
  async #adoptPendingKey(userId) {
    const pending = await this.#store.getPendingKey();
    if (!pending) return null;
    try {
      const verification = await this.#verifyWith(pending, userId);
      await this.#store.promotePendingKey(pending.keyId);
      return verification;
    } catch (error) {
      if (!(error instanceof DeviceKeysError)) throw error;
      if (error.code === "device_not_found") {
        await this.#store.deletePendingKey();
        return null;
      }
      if (error.code === "device_blocked" || error.code === "device_expired") {
        await this.#store.promotePendingKey(pending.keyId); // the service knows it: it is this device now
      }
      throw error;
    }
  }

  /** @returns {Promise<StoredKey>} */
  async #existingKey() {
    const key = await this.#store.getKey();
    if (!key) throw new DeviceKeysError("no_device_key", "this browser has no device key yet: register it first");
    return key;
  }

  /** @returns {Promise<StoredKey>} */
  async #keyOrNewKey() {
    const stored = await this.#store.getKey();
    if (stored) return stored;
    return this.#store.addKeyUnlessPresent(await newKey(this.#algorithm));
  }
}

/**
 * A new non-extractable key pair, with what the store keeps of it.
 * @param {SignatureAlgorithm} algorithm
 * @returns {Promise<StoredKey>}
 */
async function newKey(algorithm) {
  const keyPair = await generateKeyPair(algorithm);
  const publicJwk = await exportPublicJwk(keyPair.publicKey);
  return { algorithm, keyPair, publicJwk, keyId: await thumbprint(publicJwk) };
}
