// @ts-check
/** What a failure means for the person using the console, from the SDK's error codes (docs/protocol.md, section 8). */

import { DeviceKeysError } from "/sdk/devicekeys.js";

/**
 * Whether the API's authorizer refused the session's access token (expired, most likely): the
 * session is over, whatever the call was.
 * @param {unknown} error
 */
export function endsSession(error) {
  return error instanceof DeviceKeysError && error.code === "unauthorized";
}

/**
 * @param {unknown} error
 * @returns {string}
 */
export function describeFailure(error) {
  if (!(error instanceof DeviceKeysError)) return `Something went wrong in the console: ${error}`;
  switch (error.code) {
    case "network_error":
      return "The devicekeys API cannot be reached. Check your connection, then try again.";
    case "service_unavailable":
      return "The devicekeys API is busy or unavailable for a moment: nothing was changed. Try again.";
    case "device_not_found":
      return "This device key no longer exists: someone removed it meanwhile.";
    case "forbidden":
    case "device_blocked":
    case "invalid_request":
    case "payload_too_large":
      return sentence(error.message);
    default:
      return `${sentence(error.message)}${error.requestId ? ` (request ${error.requestId})` : ""}`;
  }
}

/**
 * A message as a sentence: the API's and oauth4webapi's start in lower case, without a full stop.
 * @param {string} text
 */
export function sentence(text) {
  const trimmed = text.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}
