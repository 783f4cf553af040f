/** Unpadded base64url (RFC 7515, section 2): the encoding of every JWS part and JWK member. */
/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function base64url(bytes: Uint8Array): string;
/**
 * The base64url of a value's JSON in UTF-8.
 * @param {unknown} value
 * @returns {string}
 */
export function base64urlJson(value: unknown): string;
