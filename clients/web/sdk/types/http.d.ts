/**
 * Where and as whom to call the API.
 * @typedef {object} Connection
 * @property {string} baseUrl the API's root, without a trailing slash
 * @property {string} [token] an access token, sent as `Authorization: Bearer`
 * @property {number} timeout milliseconds before a call fails with `network_error`
 */
/**
 * @param {string | undefined} baseUrl
 * @returns {string} the URL without its trailing slashes
 */
export function checkBaseUrl(baseUrl: string | undefined): string;
/**
 * The path of a user's device keys, or of something under them.
 * @param {string} userId a user id, or "me" for the token's own user
 * @param {...string} segments
 */
export function userKeysPath(userId: string, ...segments: string[]): string;
/**
 * The path of a user's bound sessions, or of something under them.
 * @param {string} userId a user id, or "me" for the token's own user
 * @param {...string} segments
 */
export function userSessionsPath(userId: string, ...segments: string[]): string;
/**
 * Call the API; resolves with the parsed JSON answer (undefined for 204 No Content).
 * @param {Connection} connection
 * @param {"GET" | "POST" | "PATCH" | "DELETE"} method
 * @param {string} path
 * @param {{ body?: unknown, query?: Record<string, string | number | null | undefined>,
 *   credentials?: RequestCredentials }} [options] `credentials`: "same-origin" for the bound-session
 *   routes, whose credential is the cookie; every other call sends none
 * @returns {Promise<any>}
 */
export function callApi({ baseUrl, token, timeout }: Connection, method: "GET" | "POST" | "PATCH" | "DELETE", path: string, { body, query, credentials }?: {
    body?: unknown;
    query?: Record<string, string | number | null | undefined>;
    credentials?: RequestCredentials;
}): Promise<any>;
export const DEFAULT_TIMEOUT_MS: 10000;
/**
 * Where and as whom to call the API.
 */
export type Connection = {
    /**
     * the API's root, without a trailing slash
     */
    baseUrl: string;
    /**
     * an access token, sent as `Authorization: Bearer`
     */
    token?: string | undefined;
    /**
     * milliseconds before a call fails with `network_error`
     */
    timeout: number;
};
