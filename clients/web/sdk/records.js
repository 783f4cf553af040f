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
 * A journey's outcome (docs/journeys.md): `outcome` says what happened, `reason` is an error code.
 * @typedef {{ outcome: string, reason?: string, message?: string, [field: string]: unknown }} JourneyOutcome
 */

export {};
