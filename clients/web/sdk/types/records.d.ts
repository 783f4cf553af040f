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
 * A journey's outcome (docs/journeys.md): `outcome` says what happened, `reason` is an error code.
 */
export type JourneyOutcome = {
    outcome: string;
    reason?: string;
    message?: string;
    [field: string]: unknown;
};
import type { PublicJwk } from "./jwk.js";
