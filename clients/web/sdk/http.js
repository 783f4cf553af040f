// @ts-check
/**
 * The one place the SDK talks HTTP: JSON in and out, the access token, a timeout, and every
 * failure turned into a `DeviceKeysError`.
 */

import { DeviceKeysError, errorFromResponse } from "./errors.js";

export const DEFAULT_TIMEOUT_MS = 10_000;

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
export function checkBaseUrl(baseUrl) {
  if (typeof baseUrl !== "string" || !/^https?:\/\/[^/]/i.test(baseUrl)) {
    throw new TypeError(`baseUrl must be the API's http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  return baseUrl.replace(/\/+$/, "");
}

/**
 * The path of a user's device keys, or of something under them.
 * @param {string} userId a user id, or "me" for the token's own user
 * @param {...string} segments
 */
export function userKeysPath(userId, ...segments) {
  if (typeof userId !== "string" || !userId) {
    throw new TypeError('userId must be a user id (or "me" with a token)');
  }
  return ["", "v1", "users", userId, "device-keys", ...segments].map(encodeURIComponent).join("/");
}

/**
 * The path of a user's bound sessions, or of something under them.
 * @param {string} userId a user id, or "me" for the token's own user
 * @param {...string} segments
 */
export function userSessionsPath(userId, ...segments) {
  userKeysPath(userId); // the same rule for userId
  return ["", "v1", "users", userId, "bound-sessions", ...segments].map(encodeURIComponent).join("/");
}

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
export async function callApi({ baseUrl, token, timeout }, method, path, { body, query, credentials = "omit" } = {}) {
  const url = new URL(baseUrl + path);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;

  let response, text;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials, // "omit" but for the bound session's own routes: bearer tokens, no ambient authority
      signal: AbortSignal.timeout(timeout),
    });
    text = await response.text();
  } catch (error) {
    throw new DeviceKeysError("network_error", `cannot reach ${baseUrl}: ${whyNoAnswer(error, timeout)}`, {
      cause: error,
    });
  }
  const answer = parseJson(text);
  if (!response.ok) throw errorFromResponse(response, answer);
  if (response.status === 204) return undefined;
  if (answer === undefined) {
    throw new DeviceKeysError("network_error", `${baseUrl} answered with something that is not the API's JSON`, {
      status: response.status,
    });
  }
  return answer;
}

/**
 * @param {unknown} error what `fetch` rejected with
 * @param {number} timeout
 */
function whyNoAnswer(error, timeout) {
  if (error instanceof DOMException && error.name === "TimeoutError") return `no answer within ${timeout} ms`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {string} text
 * @returns {unknown} the JSON value, or undefined when the text is not JSON
 */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
