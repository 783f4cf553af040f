// @ts-check
/**
 * devicekeys in the browser: crypto-bound device identity with WebCrypto and IndexedDB, and
 * nothing else. Import it as a module, as it is:
 *
 *     import { DeviceKeys, DeviceKeysApi, DeviceKeysError } from "/sdk/devicekeys.js";
 *
 * `DeviceKeys` is this browser as a device (its key pair, proofs, register, verify, saved data);
 * `DeviceKeysApi` manages a user's device keys (and bound sessions) with an access token;
 * `BoundSession` is this browser's device-bound session with the app's origin; every failure is a
 * `DeviceKeysError` with a stable `code`. The contract: docs/protocol.md.
 * @module
 */

/**
 * @typedef {import("./algorithms.js").SignatureAlgorithm} SignatureAlgorithm
 * @typedef {import("./proof.js").Purpose} Purpose
 * @typedef {import("./jwk.js").PublicJwk} PublicJwk
 * @typedef {import("./device.js").DeviceKeysOptions} DeviceKeysOptions
 * @typedef {import("./device.js").RegisterOptions} RegisterOptions
 * @typedef {import("./api.js").DeviceKeysApiOptions} DeviceKeysApiOptions
 * @typedef {import("./api.js").DeviceKeyStatus} DeviceKeyStatus
 * @typedef {import("./errors.js").DeviceKeysErrorCode} DeviceKeysErrorCode
 * @typedef {import("./errors.js").ApiErrorCode} ApiErrorCode
 * @typedef {import("./errors.js").ClientErrorCode} ClientErrorCode
 * @typedef {import("./records.js").DeviceKeyRecord} DeviceKeyRecord
 * @typedef {import("./records.js").DeviceKeyPage} DeviceKeyPage
 * @typedef {import("./records.js").Verification} Verification
 * @typedef {import("./records.js").JourneyOutcome} JourneyOutcome
 * @typedef {import("./records.js").BoundSessionRecord} BoundSessionRecord
 * @typedef {import("./records.js").BoundSessionPage} BoundSessionPage
 * @typedef {import("./records.js").BoundSessionInfo} BoundSessionInfo
 * @typedef {import("./records.js").SessionRegistration} SessionRegistration
 */

export { ALGORITHMS, isAlgorithmSupported } from "./algorithms.js";
export { DeviceKeysApi } from "./api.js";
export { BoundSession } from "./bound-session.js";
export { DeviceKeys } from "./device.js";
export { DeviceKeysError, NOT_KNOWN_CODES } from "./errors.js";
