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
    /** @param {string} namespace */
    constructor(namespace: string);
    /** @returns {Promise<StoredKey | null>} */
    getKey(): Promise<StoredKey | null>;
    /**
     * Store `candidate` unless a key is there already, in one transaction: of two tabs creating a
     * key at once, both end up with the first one stored.
     * @param {StoredKey} candidate
     * @returns {Promise<StoredKey>} the key now stored
     */
    addKeyUnlessPresent(candidate: StoredKey): Promise<StoredKey>;
    /** @returns {Promise<StoredKey | null>} a rotation's new key, not yet known to be the service's */
    getPendingKey(): Promise<StoredKey | null>;
    /**
     * Keep `candidate` as the pending key unless one is pending already (an interrupted rotation:
     * the service may hold that one).
     * @param {StoredKey} candidate
     * @returns {Promise<StoredKey>} the key now pending
     */
    addPendingKeyUnlessPresent(candidate: StoredKey): Promise<StoredKey>;
    /**
     * The service took the pending key `keyId`: it becomes the device key, in one transaction.
     * @param {string} keyId
     */
    promotePendingKey(keyId: string): Promise<void>;
    /** The service refused the pending key: forget it. */
    deletePendingKey(): Promise<void>;
    /**
     * @param {string} name
     * @returns {Promise<unknown>} undefined when nothing is saved under `name`
     */
    getData(name: string): Promise<unknown>;
    /**
     * @param {string} name
     * @param {unknown} value anything structured clone takes
     */
    putData(name: string, value: unknown): Promise<void>;
    /** @param {string} name */
    deleteData(name: string): Promise<void>;
    /** Delete the key pairs and every saved value of this namespace, together. */
    clear(): Promise<void>;
    #private;
}
/**
 * What the store keeps of a device key: the key pair, and what is derived from its public half.
 */
export type StoredKey = {
    algorithm: SignatureAlgorithm;
    keyPair: CryptoKeyPair;
    publicJwk: PublicJwk;
    keyId: string;
};
import type { SignatureAlgorithm } from "./algorithms.js";
import type { PublicJwk } from "./jwk.js";
