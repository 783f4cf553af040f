// @ts-check
/**
 * Every failure the SDK reports is a `DeviceKeysError` with a stable `code`: the API's own codes
 * (docs/protocol.md, section 8) and a few the browser adds. Apps branch on `code`, never on
 * `message`, which is for people.
 */

/**
 * The codes of docs/protocol.md, section 8, as the API answers them (and of docs/dbsc.md: bound sessions).
 * @typedef {"invalid_request" | "unsupported_key" | "invalid_proof" | "challenge_expired"
 *   | "challenge_not_found" | "forbidden" | "challenge_required" | "device_blocked" | "device_expired"
 *   | "device_not_found" | "session_not_found" | "route_not_found"
 *   | "device_key_exists" | "device_limit_reached" | "payload_too_large" | "internal_error"
 *   | "journey_failed" | "service_unavailable" | "journey_timed_out"} ApiErrorCode
 */

/**
 * The codes the SDK gives where the API's functions did not answer:
 * - `unauthorized`: API Gateway refused the access token (401); the message says why;
 * - `not_found`: API Gateway has no such route (404): check `baseUrl`;
 * - `http_error`: another HTTP error without the API's error body (a proxy's, most likely);
 * - `network_error`: no answer (offline, refused, timed out, blocked by CORS), or one that is not the API's;
 * - `no_device_key`: this browser has no device key yet (register first);
 * - `unsupported_algorithm`: this browser cannot make keys of the algorithm asked for;
 * - `storage_error`: IndexedDB refused (unavailable, full, or a value it cannot store).
 * @typedef {"unauthorized" | "not_found" | "http_error" | "network_error" | "no_device_key"
 *   | "unsupported_algorithm" | "storage_error"} ClientErrorCode
 */

/**
 * A known code, or a code a newer API answers with, passed through as it came.
 * @typedef {ApiErrorCode | ClientErrorCode | (string & {})} DeviceKeysErrorCode
 */

/**
 * What `verify` throws for a device that is not a known, active device of the user: the codes
 * `isKnownDevice` answers `false` to.
 * @type {ReadonlySet<string>}
 */
export const NOT_KNOWN_CODES = new Set([
  "device_not_found",
  "device_blocked",
  "device_expired",
  "invalid_proof",
  "challenge_expired",
  "challenge_not_found",
  "no_device_key",
]);

/** Failures that may pass if the same call is made again. */
const RETRYABLE_CODES = new Set(["service_unavailable", "network_error"]);

export class DeviceKeysError extends Error {
  /**
   * @param {DeviceKeysErrorCode} code
   * @param {string} message safe to show: the API's messages never carry secrets or stack traces
   * @param {{ status?: number | null, requestId?: string | null, cause?: unknown }} [details]
   */
  constructor(code, message, { status = null, requestId = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "DeviceKeysError";
    /** @readonly */
    this.code = code;
    /** The HTTP status, or null when no HTTP answer came (network, local errors). @readonly */
    this.status = status;
    /** The API's request id, to find the call in its logs. @readonly */
    this.requestId = requestId;
    /** @readonly */
    this.retryable = RETRYABLE_CODES.has(code);
  }
}

/**
 * The error for an HTTP answer that is not a success.
 * @param {Response} response
 * @param {unknown} body the parsed JSON body, or undefined
 * @returns {DeviceKeysError}
 */
export function errorFromResponse(response, body) {
  const { status } = response;
  const error = isObject(body) && isObject(body.error) ? body.error : null;
  const requestId =
    (isObject(body) && typeof body.request_id === "string" ? body.request_id : null) ??
    response.headers.get("apigw-requestid");
  const details = { status, requestId };
  if (error && typeof error.code === "string") {
    const message = typeof error.message === "string" ? error.message : error.code;
    return new DeviceKeysError(error.code, message, details);
  }
  // API Gateway's own answers ({"message": "Unauthorized"}, {"message": "Not Found"}) and
  // proxies' carry no error code: go by the status.
  if (status === 401) {
    const reason = bearerErrorDescription(response.headers.get("www-authenticate"));
    const why = reason ?? "no valid access token";
    return new DeviceKeysError("unauthorized", `the API's authorizer refused the access token: ${why}`, details);
  }
  if (status === 404) {
    return new DeviceKeysError("not_found", "the API has no such route: check baseUrl", details);
  }
  if (status === 413) {
    return new DeviceKeysError("payload_too_large", "the request is too large for the API", details);
  }
  if (status === 502 || status === 503 || status === 504) {
    return new DeviceKeysError("service_unavailable", `the API is unavailable (HTTP ${status}): retry`, details);
  }
  if (status >= 500) {
    return new DeviceKeysError("internal_error", `the API failed (HTTP ${status})`, details);
  }
  return new DeviceKeysError("http_error", `the API answered HTTP ${status}`, details);
}

/**
 * `error_description` (or `error`) of a Bearer challenge (RFC 6750, section 3).
 * @param {string | null} header
 * @returns {string | null}
 */
function bearerErrorDescription(header) {
  if (!header) return null;
  const parameters = new Map(Array.from(header.matchAll(/(\w+)="([^"]*)"/g), ([, name, value]) => [name, value]));
  return parameters.get("error_description") || parameters.get("error") || null;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === "object" && value !== null;
}
