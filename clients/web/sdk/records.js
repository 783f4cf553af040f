// @ts-check
/** What the API answers, as the SDK returns it: the JSON unchanged (docs/protocol.md, sections 5 and 6). */

/** @import { PublicJwk } from "./jwk.js" */

/**
 * A device key record.
 * @typedef {object} DeviceKeyRecord
 * @property {string} key_id the public key's RFC 7638 thumbprint
 * @property {string} user_id
 * @property {"active" | "blocked"} status
 * @property {string | null} display_name
 * @property {Record<string, unknown> | null} custom_data
 * @property {PublicJwk | Record<string, string>} public_key the public JWK
 * @property {string} alg the algorithm the key is pinned to
 * @property {string} created_at ISO 8601
 * @property {string} updated_at
 * @property {string | null} last_verified_at
 * @property {string | null} blocked_at
 * @property {string | null} blocked_reason
 */

/**
 * A successful "is known device" answer.
 * @typedef {object} Verification
 * @property {true} known
 * @property {string} key_id
 * @property {"active"} status
 * @property {DeviceKeyRecord} device_key
 */

/**
 * One page of a user's device keys; `next_token` is null on the last page.
 * @typedef {object} DeviceKeyPage
 * @property {DeviceKeyRecord[]} device_keys
 * @property {string | null} next_token
 * @property {number} count the number of keys on this page
 */

/**
 * A device-bound session (DBSC, docs/dbsc.md).
 * @typedef {object} BoundSessionRecord
 * @property {string} session_id
 * @property {string} user_id
 * @property {"active" | "terminated"} status
 * @property {"ES256" | "RS256"} alg the browser's session key's algorithm
 * @property {string} key_thumbprint the session key's RFC 7638 thumbprint
 * @property {string | null} user_agent the browser that registered it
 * @property {string} created_at ISO 8601
 * @property {string | null} last_refreshed_at
 * @property {number} refresh_count
 * @property {string} expires_at when it ends unless it refreshes again
 * @property {string | null} terminated_at
 * @property {string | null} terminated_reason
 */

/**
 * One page of a user's bound sessions; `next_token` is null on the last page.
 * @typedef {object} BoundSessionPage
 * @property {BoundSessionRecord[]} sessions
 * @property {string | null} next_token
 * @property {number} count
 */

/**
 * What an app adds to a signed-in user's response: `header_name: header_value`.
 * @typedef {object} SessionRegistration
 * @property {"Secure-Session-Registration"} header_name
 * @property {string} header_value
 * @property {string} challenge
 * @property {string} expires_at
 * @property {number} expires_in seconds
 */

/**
 * What the bound-session authorizer vouched for (GET /dbsc/session).
 * @typedef {object} BoundSessionInfo
 * @property {string} user_id
 * @property {string} session_id
 * @property {number} credential_expires_at epoch seconds
 */

/**
 * A journey's outcome (docs/journeys.md): `outcome` says what happened, `reason` is an error code.
 * @typedef {{ outcome: string, reason?: string, message?: string, [field: string]: unknown }} JourneyOutcome
 */

export {};
