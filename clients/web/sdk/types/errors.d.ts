/**
 * The error for an HTTP answer that is not a success.
 * @param {Response} response
 * @param {unknown} body the parsed JSON body, or undefined
 * @returns {DeviceKeysError}
 */
export function errorFromResponse(response: Response, body: unknown): DeviceKeysError;
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
export const NOT_KNOWN_CODES: ReadonlySet<string>;
export class DeviceKeysError extends Error {
    /**
     * @param {DeviceKeysErrorCode} code
     * @param {string} message safe to show: the API's messages never carry secrets or stack traces
     * @param {{ status?: number | null, requestId?: string | null, cause?: unknown }} [details]
     */
    constructor(code: DeviceKeysErrorCode, message: string, { status, requestId, cause }?: {
        status?: number | null;
        requestId?: string | null;
        cause?: unknown;
    });
    /** @readonly */
    readonly code: DeviceKeysErrorCode;
    /** The HTTP status, or null when no HTTP answer came (network, local errors). @readonly */
    readonly status: number | null;
    /** The API's request id, to find the call in its logs. @readonly */
    readonly requestId: string | null;
    /** @readonly */
    readonly retryable: boolean;
}
/**
 * The codes of docs/protocol.md, section 8, as the API answers them (and of docs/dbsc.md: bound sessions).
 */
export type ApiErrorCode = "invalid_request" | "unsupported_key" | "invalid_proof" | "challenge_expired" | "challenge_not_found" | "forbidden" | "challenge_required" | "device_blocked" | "device_expired" | "device_not_found" | "session_not_found" | "route_not_found" | "device_key_exists" | "device_limit_reached" | "payload_too_large" | "internal_error" | "journey_failed" | "service_unavailable" | "journey_timed_out";
/**
 * The codes the SDK gives where the API's functions did not answer:
 * - `unauthorized`: API Gateway refused the access token (401); the message says why;
 * - `not_found`: API Gateway has no such route (404): check `baseUrl`;
 * - `http_error`: another HTTP error without the API's error body (a proxy's, most likely);
 * - `network_error`: no answer (offline, refused, timed out, blocked by CORS), or one that is not the API's;
 * - `no_device_key`: this browser has no device key yet (register first);
 * - `unsupported_algorithm`: this browser cannot make keys of the algorithm asked for;
 * - `storage_error`: IndexedDB refused (unavailable, full, or a value it cannot store).
 */
export type ClientErrorCode = "unauthorized" | "not_found" | "http_error" | "network_error" | "no_device_key" | "unsupported_algorithm" | "storage_error";
/**
 * A known code, or a code a newer API answers with, passed through as it came.
 */
export type DeviceKeysErrorCode = ApiErrorCode | ClientErrorCode | (string & {});
