/**
 * @param {unknown} algorithm
 * @returns {SignatureAlgorithm}
 */
export function checkAlgorithm(algorithm: unknown): SignatureAlgorithm;
/**
 * A new key pair whose private key can sign but never be exported, by anyone.
 * @param {SignatureAlgorithm} algorithm
 * @returns {Promise<CryptoKeyPair>}
 */
export function generateKeyPair(algorithm: SignatureAlgorithm): Promise<CryptoKeyPair>;
/**
 * @param {SignatureAlgorithm} algorithm
 * @param {CryptoKey} privateKey
 * @param {string} text
 * @returns {Promise<Uint8Array>} the JWS signature: raw r‖s for ECDSA, which is what WebCrypto gives
 */
export function sign(algorithm: SignatureAlgorithm, privateKey: CryptoKey, text: string): Promise<Uint8Array>;
/**
 * Whether this browser can make keys of `algorithm` (it makes one, and drops it).
 * @param {SignatureAlgorithm} algorithm
 * @returns {Promise<boolean>}
 */
export function isAlgorithmSupported(algorithm: SignatureAlgorithm): Promise<boolean>;
/** @type {readonly SignatureAlgorithm[]} */
export const ALGORITHMS: readonly SignatureAlgorithm[];
export type SignatureAlgorithm = "ES256" | "Ed25519";
