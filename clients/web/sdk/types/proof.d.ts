/** @typedef {"register" | "verify" | "rotate"} Purpose */
/**
 * A challenge as the API issues it, and when this browser received it.
 * @typedef {object} IssuedChallenge
 * @property {string} challenge
 * @property {string} expires_at ISO 8601, whole seconds
 * @property {number} expires_in seconds
 * @property {number} receivedAt `performance.now()` when the answer came
 */
/**
 * @param {StoredKey} key
 * @param {{ challenge: IssuedChallenge, userId: string, purpose: Purpose, audience?: string,
 *   withPublicKey?: boolean }} claims `withPublicKey`: carry the public key (`jwk`) rather than its id
 * @returns {Promise<string>}
 */
export function createProof(key: StoredKey, { challenge, userId, purpose, audience, withPublicKey }: {
    challenge: IssuedChallenge;
    userId: string;
    purpose: Purpose;
    audience?: string;
    withPublicKey?: boolean;
}): Promise<string>;
/** @import { StoredKey } from "./store.js" */
export const PROOF_TYPE: "dk+jwt";
export type Purpose = "register" | "verify" | "rotate";
/**
 * A challenge as the API issues it, and when this browser received it.
 */
export type IssuedChallenge = {
    challenge: string;
    /**
     * ISO 8601, whole seconds
     */
    expires_at: string;
    /**
     * seconds
     */
    expires_in: number;
    /**
     * `performance.now()` when the answer came
     */
    receivedAt: number;
};
import type { StoredKey } from "./store.js";
