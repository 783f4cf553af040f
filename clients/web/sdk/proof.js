// @ts-check
/**
 * Device proofs: a compact JWS over a one-time challenge (docs/protocol.md, section 2).
 * A register proof carries the public key (`jwk`), so does a rotation's proof by the new key;
 * the others name the key (`kid`).
 */

import { sign } from "./algorithms.js";
import { base64url, base64urlJson } from "./base64url.js";

/** @import { StoredKey } from "./store.js" */

export const PROOF_TYPE = "dk+jwt";

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
export async function createProof(key, { challenge, userId, purpose, audience, withPublicKey = purpose === "register" }) {
  const header =
    withPublicKey
      ? { typ: PROOF_TYPE, alg: key.algorithm, jwk: key.publicJwk }
      : { typ: PROOF_TYPE, alg: key.algorithm, kid: key.keyId };
  const payload = {
    challenge: challenge.challenge,
    sub: userId,
    purpose,
    iat: issuedAt(challenge),
    ...(audience === undefined ? {} : { aud: audience }),
  };
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  return `${signingInput}.${base64url(await sign(key.algorithm, key.keyPair.privateKey, signingInput))}`;
}

/**
 * `iat` by the service's clock: the challenge was issued at `expires_at - expires_in`, and this
 * much time has passed since. The service accepts an `iat` within its skew (60 s) of its own clock,
 * which a device whose clock is wrong would miss; the challenge already makes the proof fresh.
 * @param {IssuedChallenge} challenge
 * @returns {number} integer seconds since the epoch
 */
function issuedAt({ expires_at, expires_in, receivedAt }) {
  const issued = Date.parse(expires_at) / 1000 - expires_in;
  if (!Number.isFinite(issued)) return Math.floor(Date.now() / 1000); // not the API's challenge: our clock
  return Math.floor(issued + (performance.now() - receivedAt) / 1000);
}
