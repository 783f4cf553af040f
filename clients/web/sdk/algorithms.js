// @ts-check
/**
 * The signature algorithms a browser device key can use, and how WebCrypto names them.
 * ES256 works in every browser; Ed25519 in recent ones only, so an app asks for it knowingly.
 */

import { DeviceKeysError } from "./errors.js";

/** @typedef {"ES256" | "Ed25519"} SignatureAlgorithm */

/** @type {Record<SignatureAlgorithm, { generate: EcKeyGenParams | Algorithm, sign: EcdsaParams | Algorithm }>} */
const WEBCRYPTO = {
  ES256: { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  Ed25519: { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
};

/** @type {readonly SignatureAlgorithm[]} */
export const ALGORITHMS = Object.freeze(/** @type {SignatureAlgorithm[]} */ (Object.keys(WEBCRYPTO)));

/**
 * @param {unknown} algorithm
 * @returns {SignatureAlgorithm}
 */
export function checkAlgorithm(algorithm) {
  if (!ALGORITHMS.includes(/** @type {SignatureAlgorithm} */ (algorithm))) {
    const known = ALGORITHMS.join(", ");
    throw new DeviceKeysError("unsupported_algorithm", `${algorithm} is not a device key algorithm: use ${known}`);
  }
  return /** @type {SignatureAlgorithm} */ (algorithm);
}

/**
 * A new key pair whose private key can sign but never be exported, by anyone.
 * @param {SignatureAlgorithm} algorithm
 * @returns {Promise<CryptoKeyPair>}
 */
export async function generateKeyPair(algorithm) {
  const subtle = webCrypto(algorithm);
  try {
    return /** @type {CryptoKeyPair} */ (await subtle.generateKey(WEBCRYPTO[algorithm].generate, false, ["sign"]));
  } catch (error) {
    if (error instanceof DOMException && error.name === "NotSupportedError") {
      throw new DeviceKeysError("unsupported_algorithm", `this browser cannot make ${algorithm} keys`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * @param {SignatureAlgorithm} algorithm
 * @param {CryptoKey} privateKey
 * @param {string} text
 * @returns {Promise<Uint8Array>} the JWS signature: raw r‖s for ECDSA, which is what WebCrypto gives
 */
export async function sign(algorithm, privateKey, text) {
  const data = new TextEncoder().encode(text);
  return new Uint8Array(await webCrypto(algorithm).sign(WEBCRYPTO[algorithm].sign, privateKey, data));
}

/**
 * Whether this browser can make keys of `algorithm` (it makes one, and drops it).
 * @param {SignatureAlgorithm} algorithm
 * @returns {Promise<boolean>}
 */
export async function isAlgorithmSupported(algorithm) {
  try {
    await generateKeyPair(checkAlgorithm(algorithm));
    return true;
  } catch (error) {
    if (error instanceof DeviceKeysError && error.code === "unsupported_algorithm") return false;
    throw error;
  }
}

/**
 * WebCrypto's `subtle`, which browsers give secure contexts only (https, or http://localhost).
 * @param {SignatureAlgorithm} algorithm
 * @returns {SubtleCrypto}
 */
function webCrypto(algorithm) {
  if (!globalThis.crypto?.subtle) {
    const why = "WebCrypto is unavailable: the page must be served over https (or from localhost)";
    throw new DeviceKeysError("unsupported_algorithm", `cannot use ${algorithm} keys: ${why}`);
  }
  return globalThis.crypto.subtle;
}
