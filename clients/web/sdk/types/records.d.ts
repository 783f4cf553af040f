/**
 * A device key record.
 */
export type DeviceKeyRecord = {
    /**
     * the public key's RFC 7638 thumbprint
     */
    key_id: string;
    user_id: string;
    status: "active" | "blocked";
    display_name: string | null;
    custom_data: Record<string, unknown> | null;
    /**
     * the public JWK
     */
    public_key: PublicJwk | Record<string, string>;
    /**
     * the algorithm the key is pinned to
     */
    alg: string;
    /**
     * ISO 8601
     */
    created_at: string;
    updated_at: string;
    last_verified_at: string | null;
    blocked_at: string | null;
    blocked_reason: string | null;
};
/**
 * A successful "is known device" answer.
 */
export type Verification = {
    known: true;
    key_id: string;
    status: "active";
    device_key: DeviceKeyRecord;
};
/**
 * One page of a user's device keys; `next_token` is null on the last page.
 */
export type DeviceKeyPage = {
    device_keys: DeviceKeyRecord[];
    next_token: string | null;
    /**
     * the number of keys on this page
     */
    count: number;
};
/**
 * A device-bound session (DBSC, docs/dbsc.md).
 */
export type BoundSessionRecord = {
    session_id: string;
    user_id: string;
    status: "active" | "terminated";
    /**
     * the browser's session key's algorithm
     */
    alg: "ES256" | "RS256";
    /**
     * the session key's RFC 7638 thumbprint
     */
    key_thumbprint: string;
    /**
     * the browser that registered it
     */
    user_agent: string | null;
    /**
     * ISO 8601
     */
    created_at: string;
    last_refreshed_at: string | null;
    refresh_count: number;
    /**
     * when it ends unless it refreshes again
     */
    expires_at: string;
    terminated_at: string | null;
    terminated_reason: string | null;
};
/**
 * One page of a user's bound sessions; `next_token` is null on the last page.
 */
export type BoundSessionPage = {
    sessions: BoundSessionRecord[];
    next_token: string | null;
    count: number;
};
/**
 * What an app adds to a signed-in user's response: `header_name: header_value`.
 */
export type SessionRegistration = {
    header_name: "Secure-Session-Registration";
    header_value: string;
    challenge: string;
    expires_at: string;
    /**
     * seconds
     */
    expires_in: number;
};
/**
 * What the bound-session authorizer vouched for (GET /dbsc/session).
 */
export type BoundSessionInfo = {
    user_id: string;
    session_id: string;
    /**
     * epoch seconds
     */
    credential_expires_at: number;
};
/**
 * A journey's outcome (docs/journeys.md): `outcome` says what happened, `reason` is an error code.
 */
export type JourneyOutcome = {
    outcome: string;
    reason?: string;
    message?: string;
    [field: string]: unknown;
};
import type { PublicJwk } from "./jwk.js";
