// @ts-check
/**
 * The device's public key as the API reads it: a JWK of the RFC 7638 members only, and its
 * SHA-256 thumbprint, which is the key's `key_id` on the service (docs/protocol.md, section 3).
 */

import { base64url } from "./base64url.js";

/**
 * @typedef {{ kty: "EC", crv: "P-256", x: string, y: string }} EcPublicJwk
 * @typedef {{ kty: "OKP", crv: "Ed25519", x: string }} OkpPublicJwk
 * @typedef {EcPublicJwk | OkpPublicJwk} PublicJwk
 */

/** The required members of each key type, in the lexicographic order RFC 7638 hashes them in. */
const THUMBPRINT_MEMBERS = {
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
};

/**
 * The public key's JWK, reduced to its required members (WebCrypto adds `key_ops` and `ext`).
 * @param {CryptoKey} publicKey
 * @returns {Promise<PublicJwk>}
 */
export async function exportPublicJwk(publicKey) {
  return /** @type {PublicJwk} */ (requiredMembers(await crypto.subtle.exportKey("jwk", publicKey)));
}

/**
 * The RFC 7638 SHA-256 thumbprint, base64url: the JSON of the required members, sorted, without
 * whitespace. The members are base64url and fixed names, so `JSON.stringify` writes them exactly.
 * @param {PublicJwk} jwk
 * @returns {Promise<string>}
 */
export async function thumbprint(jwk) {
  const canonical = JSON.stringify(requiredMembers(jwk));
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical))));
}

/**
 * @param {JsonWebKey} jwk
 * @returns {Record<string, string | undefined>} the members in thumbprint order
 */
function requiredMembers(jwk) {
  const members = THUMBPRINT_MEMBERS[/** @type {keyof THUMBPRINT_MEMBERS} */ (jwk.kty)];
  const record = /** @type {Record<string, string | undefined>} */ (jwk);
  return Object.fromEntries(members.map((name) => [name, record[name]]));
}
