// @ts-check
/**
 * This browser's device key and saved data, in IndexedDB: one database per origin, one key per
 * namespace. The key pair is stored as the `CryptoKeyPair` object itself (a structured clone), so
 * the private key stays a non-extractable `CryptoKey` across reloads: it is never in a form a
 * script can read, this SDK's included.
 *
 * A rotation's new key is kept aside (`pending`) until the API has accepted it: if the answer
 * is lost, the device can still find out which of its two keys the service knows.
 */

import { DeviceKeysError } from "./errors.js";

const DATABASE = "devicekeys";
const VERSION = 2; // 2: pending-keys
const KEYS = "device-keys"; // namespace -> StoredKey
const DATA = "saved-data"; // [namespace, name] -> value
const PENDING = "pending-keys"; // namespace -> StoredKey: a rotation's new key, until the API took it

/**
 * @import { SignatureAlgorithm } from "./algorithms.js"
 * @import { PublicJwk } from "./jwk.js"
 */

/**
 * What the store keeps of a device key: the key pair, and what is derived from its public half.
 * @typedef {object} StoredKey
 * @property {SignatureAlgorithm} algorithm
 * @property {CryptoKeyPair} keyPair
 * @property {PublicJwk} publicJwk
 * @property {string} keyId
 */

export class KeyStore {
  #namespace;

  /** @param {string} namespace */
  constructor(namespace) {
    this.#namespace = namespace;
  }

  /** @returns {Promise<StoredKey | null>} */
  async getKey() {
    const key = await transact([KEYS], "readonly", (transaction) => transaction.objectStore(KEYS).get(this.#namespace));
    return key ?? null;
  }

  /**
   * Store `candidate` unless a key is there already, in one transaction: of two tabs creating a
   * key at once, both end up with the first one stored.
   * @param {StoredKey} candidate
   * @returns {Promise<StoredKey>} the key now stored
   */
  async addKeyUnlessPresent(candidate) {
    const existing = await transact([KEYS], "readwrite", (transaction) => {
      const keys = transaction.objectStore(KEYS);
      const request = keys.get(this.#namespace);
      request.onsuccess = () => {
        if (request.result === undefined) keys.add(candidate, this.#namespace);
      };
      return request;
    });
    return existing ?? candidate;
  }

  /** @returns {Promise<StoredKey | null>} a rotation's new key, not yet known to be the service's */
  async getPendingKey() {
    const key = await transact([PENDING], "readonly", (transaction) =>
      transaction.objectStore(PENDING).get(this.#namespace),
    );
    return key ?? null;
  }

  /**
   * Keep `candidate` as the pending key unless one is pending already (an interrupted rotation:
   * the service may hold that one).
   * @param {StoredKey} candidate
   * @returns {Promise<StoredKey>} the key now pending
   */
  async addPendingKeyUnlessPresent(candidate) {
    const existing = await transact([PENDING], "readwrite", (transaction) => {
      const pending = transaction.objectStore(PENDING);
      const request = pending.get(this.#namespace);
      request.onsuccess = () => {
        if (request.result === undefined) pending.add(candidate, this.#namespace);
      };
      return request;
    });
    return existing ?? candidate;
  }

  /**
   * The service took the pending key `keyId`: it becomes the device key, in one transaction.
   * @param {string} keyId
   */
  async promotePendingKey(keyId) {
    await transact([KEYS, PENDING], "readwrite", (transaction) => {
      const pending = transaction.objectStore(PENDING);
      const request = pending.get(this.#namespace);
      request.onsuccess = () => {
        if (request.result?.keyId !== keyId) return; // another tab finished the rotation first
        transaction.objectStore(KEYS).put(request.result, this.#namespace);
        pending.delete(this.#namespace);
      };
    });
  }

  /** The service refused the pending key: forget it. */
  async deletePendingKey() {
    await transact([PENDING], "readwrite", (transaction) => transaction.objectStore(PENDING).delete(this.#namespace));
  }

  /**
   * @param {string} name
   * @returns {Promise<unknown>} undefined when nothing is saved under `name`
   */
  getData(name) {
    return transact([DATA], "readonly", (transaction) => transaction.objectStore(DATA).get([this.#namespace, name]));
  }

  /**
   * @param {string} name
   * @param {unknown} value anything structured clone takes
   */
  async putData(name, value) {
    const key = [this.#namespace, name];
    await transact([DATA], "readwrite", (transaction) => transaction.objectStore(DATA).put(value, key));
  }

  /** @param {string} name */
  async deleteData(name) {
    await transact([DATA], "readwrite", (transaction) => transaction.objectStore(DATA).delete([this.#namespace, name]));
  }

  /** Delete the key pairs and every saved value of this namespace, together. */
  async clear() {
    await transact([KEYS, DATA, PENDING], "readwrite", (transaction) => {
      transaction.objectStore(KEYS).delete(this.#namespace);
      transaction.objectStore(PENDING).delete(this.#namespace);
      // [namespace] sorts before [namespace, any name], and an array after every string
      transaction.objectStore(DATA).delete(IDBKeyRange.bound([this.#namespace], [this.#namespace, []]));
    });
  }
}

/**
 * Run `operate` in one transaction; resolves with the result of the request it returns, once the
 * transaction has committed. Any IndexedDB failure becomes a `storage_error`.
 * @template T
 * @param {string[]} stores
 * @param {IDBTransactionMode} mode
 * @param {(transaction: IDBTransaction) => IDBRequest<T> | void} operate
 * @returns {Promise<T | undefined>}
 */
async function transact(stores, mode, operate) {
  /** @type {IDBDatabase | undefined} */
  let database;
  try {
    database = await openDatabase();
    const transaction = database.transaction(stores, mode);
    return await new Promise((resolve, reject) => {
      const request = operate(transaction);
      transaction.oncomplete = () => resolve(request?.result);
      transaction.onabort = () => reject(transaction.error ?? new DOMException("aborted", "AbortError"));
    });
  } catch (error) {
    const message = `this browser's storage (IndexedDB) refused: ${error}`;
    throw new DeviceKeysError("storage_error", message, { cause: error });
  } finally {
    database?.close(); // a connection per transaction: never one that blocks another tab's upgrade
  }
}

/** @returns {Promise<IDBDatabase>} */
function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      for (const store of [KEYS, DATA, PENDING]) {
        if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
