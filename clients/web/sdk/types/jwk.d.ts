/**
 * The public key's JWK, reduced to its required members (WebCrypto adds `key_ops` and `ext`).
 * @param {CryptoKey} publicKey
 * @returns {Promise<PublicJwk>}
 */
export function exportPublicJwk(publicKey: CryptoKey): Promise<PublicJwk>;
/**
 * The RFC 7638 SHA-256 thumbprint, base64url: the JSON of the required members, sorted, without
 * whitespace. The members are base64url and fixed names, so `JSON.stringify` writes them exactly.
 * @param {PublicJwk} jwk
 * @returns {Promise<string>}
 */
export function thumbprint(jwk: PublicJwk): Promise<string>;
export type EcPublicJwk = {
    kty: "EC";
    crv: "P-256";
    x: string;
    y: string;
};
export type OkpPublicJwk = {
    kty: "OKP";
    crv: "Ed25519";
    x: string;
};
export type PublicJwk = EcPublicJwk | OkpPublicJwk;
