"""The browser SDK (clients/web/sdk/) in a real Chromium, against the session's local API.

Each test drives the SDK as an app does, from a page on the API's origin that imports
``/sdk/devicekeys.js``; ``call_sdk`` runs a snippet of JavaScript there and turns a
``DeviceKeysError`` into a Python ``SdkError`` with the same code, status and request id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey

from ..conftest import CHALLENGE_TTL, MAX_DEVICES, LocalApi, free_port, http
from .sdk_page import ALGORITHMS, SdkError, call_sdk, open_sdk_page, register, reload_sdk_page

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# What a script running on the app's origin sees of the stored private key (an attacker's XSS
# included): it reads the CryptoKeyPair straight from IndexedDB and tries to export it.
READ_STORED_PRIVATE_KEY = """
  const database = await new Promise((resolve, reject) => {
    const opening = indexedDB.open("devicekeys");
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const stored = await new Promise((resolve) => {
    const reading = database.transaction("device-keys").objectStore("device-keys").get("default");
    reading.onsuccess = () => resolve(reading.result);
  });
  database.close();
  const { privateKey } = stored.keyPair;
  const exports = {};
  for (const format of ["jwk", "pkcs8"]) {
    exports[format] = await crypto.subtle.exportKey(format, privateKey).then(() => "exported", (e) => e.name);
  }
  return { type: privateKey.type, extractable: privateKey.extractable, exports };
"""


def decode_jws(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = (base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in proof.split("."))
    return json.loads(header), json.loads(payload)


def rfc7638_thumbprint(jwk: dict[str, str]) -> str:
    canonical = json.dumps({name: jwk[name] for name in sorted(jwk)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


# --- the key pair ---------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_private_key_cannot_be_exported_and_the_key_id_is_the_services(
    local_api: LocalApi, sdk: Any, user_id: str, algorithm: str
) -> None:
    record = register(sdk, local_api, user_id, algorithm=algorithm)
    # device() asks for ES256 keys: a key already stored keeps its own algorithm
    local = call_sdk(sdk, "const d = device(); return { keyId: await d.keyId(), jwk: await d.publicJwk() };")

    # the key_id computed in the browser is the service's, and RFC 7638's
    assert local["keyId"] == record["key_id"] == rfc7638_thumbprint(local["jwk"])
    assert local["jwk"] == record["public_key"]
    expected_members = {"kty", "crv", "x", "y"} if algorithm == "ES256" else {"kty", "crv", "x"}
    assert set(local["jwk"]) == expected_members  # no "d", no key_ops, no ext
    assert record["alg"] == algorithm

    # a script on the origin can reach the stored key but not read it
    private_key = call_sdk(sdk, READ_STORED_PRIVATE_KEY)
    assert private_key == {
        "type": "private",
        "extractable": False,
        "exports": {"jwk": "InvalidAccessError", "pkcs8": "InvalidAccessError"},
    }

    # the same key after a reload, and it still signs
    reload_sdk_page(sdk)
    verified = call_sdk(sdk, "const d = device(); return [await d.keyId(), await d.verify(args.user)];", user=user_id)
    assert verified[0] == record["key_id"]
    assert (verified[1]["known"], verified[1]["key_id"]) == (True, record["key_id"])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_proofs_are_the_protocols_compact_jws(local_api: LocalApi, sdk: Any, user_id: str, algorithm: str) -> None:
    proofs = call_sdk(
        sdk,
        """const d = device({ algorithm: args.algorithm, audience: "shop.example" });
        return { register: await d.proof(args.user, "register"), verify: await d.proof(args.user, "verify"),
                 jwk: await d.publicJwk(), keyId: await d.keyId() };""",
        user=user_id,
        algorithm=algorithm,
    )
    jwk = proofs["jwk"]
    key = (ECKey if algorithm == "ES256" else OKPKey).import_key(jwk)

    for purpose, expected_header in (
        ("register", {"typ": "dk+jwt", "alg": algorithm, "jwk": jwk}),
        ("verify", {"typ": "dk+jwt", "alg": algorithm, "kid": proofs["keyId"]}),
    ):
        header, payload = decode_jws(proofs[purpose])
        assert header == expected_header
        assert set(payload) == {"challenge", "sub", "purpose", "iat", "aud"}
        assert (payload["sub"], payload["purpose"], payload["aud"]) == (user_id, purpose, "shop.example")
        assert isinstance(payload["iat"], int) and abs(payload["iat"] - time.time()) < 5
        jws.deserialize_compact(proofs[purpose], key, algorithms=[algorithm])  # raises unless the signature is good

    # and the service takes the register proof as it is (this deployment sets no ProofAudience)
    assert local_api.client(user_id).register_proof(user_id, proofs["register"]).key_id == proofs["keyId"]


def test_a_device_whose_clock_is_an_hour_off_still_proves_itself(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    """iat comes from the service's clock (the challenge's issue time), not the device's."""
    sdk.clock.set_fixed_time(time.time() - 3600)
    assert call_sdk(sdk, "return Date.now();") < (time.time() - 3500) * 1000

    register(sdk, local_api, user_id)
    proof = call_sdk(sdk, "return await device().proof(args.user, 'verify');", user=user_id)

    assert abs(decode_jws(proof)[1]["iat"] - time.time()) < 5
    assert call_sdk(sdk, "return await device().isKnownDevice(args.user);", user=user_id) is True


def test_two_callers_making_the_first_key_at_once_share_one_key(sdk: Any, user_id: str) -> None:
    """Two tabs of the app, or two calls in one, before the browser has a key: one key, not two."""
    proofs = call_sdk(
        sdk,
        """const [first, second] = await Promise.all([device().proof(args.user, "register"),
                                                     device().proof(args.user, "register")]);
        return [first, second, await device().publicJwk()];""",
        user=user_id,
    )
    first, second, stored = proofs
    assert decode_jws(first)[0]["jwk"] == decode_jws(second)[0]["jwk"] == stored


# --- register, verify, block ------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_register_verify_block_and_unblock(local_api: LocalApi, sdk: Any, user_id: str, algorithm: str) -> None:
    record = register(sdk, local_api, user_id, algorithm=algorithm)
    admin = local_api.client("security-team", admin=True)
    verify = "return await device().verify(args.user);"

    assert call_sdk(sdk, verify, user=user_id)["device_key"]["status"] == "active"

    admin.block(user_id, record["key_id"], reason="reported stolen")
    with pytest.raises(SdkError) as blocked:
        call_sdk(sdk, verify, user=user_id)
    assert (blocked.value.code, blocked.value.status, blocked.value.name) == ("device_blocked", 403, "DeviceKeysError")
    assert blocked.value.request_id
    assert call_sdk(sdk, "return await device().isKnownDevice(args.user);", user=user_id) is False

    admin.unblock(user_id, record["key_id"])
    verified = call_sdk(sdk, verify, user=user_id)
    assert (verified["known"], verified["key_id"], verified["status"]) == (True, record["key_id"], "active")


def test_a_device_registered_for_someone_else_is_device_not_found(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    register(sdk, local_api, user_id)
    stranger = f"user-{uuid.uuid4().hex[:10]}"

    with pytest.raises(SdkError) as refused:
        call_sdk(sdk, "return await device().verify(args.user);", user=stranger)

    assert (refused.value.code, refused.value.status, refused.value.retryable) == ("device_not_found", 404, False)
    assert call_sdk(sdk, "return await device().isKnownDevice(args.user);", user=stranger) is False


def test_without_a_key_verify_is_no_device_key_and_calls_nothing(sdk: Any, user_id: str) -> None:
    requests: list[str] = []
    sdk.on("request", lambda request: requests.append(request.url))

    with pytest.raises(SdkError) as refused:
        call_sdk(sdk, "return await device().verify(args.user);", user=user_id)

    assert (refused.value.code, refused.value.status) == ("no_device_key", None)
    assert call_sdk(sdk, "return await device().isKnownDevice(args.user);", user=user_id) is False
    assert call_sdk(sdk, "const d = device(); return [await d.hasKey(), await d.keyId(), await d.publicJwk()];") == [
        False,
        None,
        None,
    ]
    assert requests == []


def test_registering_a_registered_device_again_is_device_key_exists(
    local_api: LocalApi, sdk: Any, user_id: str
) -> None:
    register(sdk, local_api, user_id)

    with pytest.raises(SdkError) as refused:
        register(sdk, local_api, user_id)

    assert (refused.value.code, refused.value.status) == ("device_key_exists", 409)


def test_a_device_over_the_users_limit_is_device_limit_reached(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    for index in range(MAX_DEVICES):
        register(sdk, local_api, user_id, namespace=f"device-{index}")

    with pytest.raises(SdkError) as refused:
        register(sdk, local_api, user_id, namespace="one-too-many")

    assert (refused.value.code, refused.value.status) == ("device_limit_reached", 409)


def test_a_replayed_challenge_is_challenge_not_found(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    """A proxy (or a bug) that hands the device a challenge already used: the service refuses it."""
    register(sdk, local_api, user_id)
    answers: list[str] = []

    def replay_the_first_challenge(route: Any) -> None:
        if not answers:
            answers.append(route.fetch().text())
        route.fulfill(status=201, content_type="application/json", body=answers[0])

    sdk.route("**/device-keys/challenges", replay_the_first_challenge)
    call_sdk(sdk, "return await device().verify(args.user);", user=user_id)

    with pytest.raises(SdkError) as refused:
        call_sdk(sdk, "return await device().verify(args.user);", user=user_id)

    assert (refused.value.code, refused.value.status) == ("challenge_not_found", 401)


# --- the lifecycle ----------------------------------------------------------------------


def test_the_users_keys_through_the_api(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    keys = [register(sdk, local_api, user_id, namespace=f"device-{index}")["key_id"] for index in range(3)]
    token, admin_token = local_api.token(user_id), local_api.token("security-team", admin=True)
    outcome = call_sdk(
        sdk,
        """const api = new DeviceKeysApi({ baseUrl: location.origin, token: args.token });
        const admin = new DeviceKeysApi({ baseUrl: location.origin, token: args.adminToken });
        const [first, second, third] = args.keys;
        const page = await api.list(args.user, { limit: 1 });
        const outcome = {
          page: [page.count, page.device_keys.length, typeof page.next_token],
          listAll: (await api.listAll("me")).map((key) => key.key_id),
          count: await api.count(args.user),
          renamed: (await api.rename(args.user, first, "Work laptop")).display_name,
          enriched: (await api.update(args.user, first, { customData: { os: "linux" } })).custom_data,
          got: await api.get(args.user, first),
          cleared: (await api.update(args.user, first, { displayName: null, customData: null })),
          blocked: (await admin.block(args.user, second, { reason: "reported stolen" })).blocked_reason,
          countBlocked: await api.count(args.user, { status: "blocked" }),
        };
        try { await api.delete(args.user, second); } catch (error) { outcome.userDeletesBlocked = error.code; }
        outcome.unblocked = (await admin.unblock(args.user, second)).status;
        outcome.deleted = await api.delete(args.user, third);
        outcome.countAfter = await api.count("me");
        return outcome;""",
        user=user_id,
        token=token,
        adminToken=admin_token,
        keys=keys,
    )

    assert outcome["page"] == [1, 1, "string"]
    assert sorted(outcome["listAll"]) == sorted(keys)
    assert outcome["count"] == 3
    assert outcome["renamed"] == "Work laptop"
    assert outcome["enriched"] == {"os": "linux"}
    assert (outcome["got"]["display_name"], outcome["got"]["custom_data"]) == ("Work laptop", {"os": "linux"})
    assert (outcome["cleared"]["display_name"], outcome["cleared"]["custom_data"]) == (None, None)
    assert (outcome["blocked"], outcome["countBlocked"]) == ("reported stolen", 1)
    assert outcome["userDeletesBlocked"] == "device_blocked"  # only an administrator removes a blocked key
    assert outcome["unblocked"] == "active"
    assert outcome.get("deleted") is None
    assert outcome["countAfter"] == 2
    assert {key.key_id for key in local_api.client(user_id).iter_device_keys(user_id)} == set(keys[:2])


def test_a_journey_after_the_password(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    register(sdk, local_api, user_id)
    outcomes = call_sdk(
        sdk,
        """const api = new DeviceKeysApi({ baseUrl: location.origin, token: args.token });
        return [await api.startJourney("known-device-step-up", { proof: await device().proof(args.user, "verify") }),
                await api.startJourney("known-device-step-up", {})];""",
        user=user_id,
        token=local_api.token(user_id),
    )

    assert [outcome["outcome"] for outcome in outcomes] == ["complete", "step_up_required"]
    assert outcomes[0]["key_id"] == call_sdk(sdk, "return await device().keyId();")
    assert outcomes[1]["reason"] == "no_device_proof"


# --- data saved next to the key ---------------------------------------------------------


def test_saved_data_survives_a_reload_and_forget_removes_it_with_the_key(
    local_api: LocalApi, sdk: Any, user_id: str
) -> None:
    record = register(sdk, local_api, user_id)
    call_sdk(
        sdk,
        """const d = device();
        await d.saveData("userExternalId", args.user);
        await d.saveData("preferences", { theme: "dark", since: new Date(0) });
        await d.saveData("draft", "to be removed");
        await d.removeData("draft");
        await device({ namespace: "other-app" }).saveData("userExternalId", "someone-else");""",
        user=user_id,
    )

    reload_sdk_page(sdk)
    loaded = call_sdk(
        sdk,
        """const d = device();
        const preferences = await d.loadData("preferences");
        return [await d.loadData("userExternalId"), preferences.theme, preferences.since instanceof Date,
                await d.loadData("draft"), await d.loadData("never-saved")];""",
    )
    assert loaded == [user_id, "dark", True, None, None]

    forgotten = call_sdk(
        sdk,
        """const d = device();
        await d.forget();
        const other = device({ namespace: "other-app" });
        return [await d.hasKey(), await d.keyId(), await d.loadData("userExternalId"),
                await other.loadData("userExternalId")];""",
    )
    assert forgotten == [False, None, None, "someone-else"]  # another namespace is another device

    with pytest.raises(SdkError) as refused:
        call_sdk(sdk, "return await device().verify(args.user);", user=user_id)
    assert refused.value.code == "no_device_key"
    # forget() is local: the key stays registered until someone deletes it
    assert local_api.client(user_id).get(user_id, record["key_id"]).status == "active"


# --- every other error, typed -----------------------------------------------------------


def test_requests_the_api_refuses_are_invalid_request(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    key_id = register(sdk, local_api, user_id, namespace="registered")["key_id"]
    attempts = {
        "a name with a bidirectional override": """await device().register(args.user,
            { token: args.token, displayName: "laptop\\u202Egnp.exe" });""",
        "a change of nothing": "await api.update(args.user, args.keyId, {});",
        "a page of no keys": "await api.list(args.user, { limit: 0 });",
    }
    for attempt, code in attempts.items():
        with pytest.raises(SdkError) as refused:
            call_sdk(
                sdk,
                f"const api = new DeviceKeysApi({{ baseUrl: location.origin, token: args.token }}); {code}",
                user=user_id,
                token=local_api.token(user_id),
                keyId=key_id,
            )
        assert (refused.value.code, refused.value.status) == ("invalid_request", 400), attempt


def test_too_much_custom_data_is_payload_too_large(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    with pytest.raises(SdkError) as refused:
        call_sdk(
            sdk,
            "const customData = { notes: 'x'.repeat(5000) };"
            "return await device().register(args.user, { token: args.token, customData });",
            user=user_id,
            token=local_api.token(user_id),
        )

    assert (refused.value.code, refused.value.status) == ("payload_too_large", 413)


def test_another_users_keys_are_forbidden(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    key_id = register(sdk, local_api, user_id)["key_id"]
    mallory = local_api.token(f"mallory-{uuid.uuid4().hex[:8]}")
    for attempt in (
        "await api.list(args.user);",
        "await api.rename(args.user, args.keyId, 'mine now');",
        "await api.delete(args.user, args.keyId);",
    ):
        with pytest.raises(SdkError) as refused:
            call_sdk(
                sdk,
                "const api = new DeviceKeysApi({ baseUrl: location.origin, token: args.token });" + attempt,
                user=user_id,
                token=mallory,
                keyId=key_id,
            )
        assert (refused.value.code, refused.value.status) == ("forbidden", 403), attempt

    with pytest.raises(SdkError) as own_block:  # a user may not block, even their own key
        call_sdk(
            sdk,
            "await new DeviceKeysApi({ baseUrl: location.origin, token: args.token }).block(args.user, args.keyId);",
            user=user_id,
            token=local_api.token(user_id),
            keyId=key_id,
        )
    assert own_block.value.code == "forbidden"


@pytest.mark.parametrize("token", ["not-a-jwt", "expired"])
def test_a_refused_token_is_unauthorized_with_the_authorizers_reason(
    local_api: LocalApi, sdk: Any, user_id: str, token: str
) -> None:
    if token == "expired":
        token = local_api.token(user_id, lifetime=1)
        time.sleep(2.1)
    _, headers, _ = http(local_api, "GET", f"/v1/users/{user_id}/device-keys", token=token)
    reason = headers["www-authenticate"].split('error_description="')[1].rstrip('"')

    with pytest.raises(SdkError) as refused:
        call_sdk(
            sdk,
            "return await new DeviceKeysApi({ baseUrl: location.origin, token: args.token }).list(args.user);",
            user=user_id,
            token=token,
        )

    assert (refused.value.code, refused.value.status) == ("unauthorized", 401)
    assert refused.value.message == f"the API's authorizer refused the access token: {reason}"
    assert refused.value.request_id  # API Gateway's own answer: from its apigw-requestid header


def test_a_wrong_base_url_or_journey_is_not_found(local_api: LocalApi, sdk: Any, user_id: str) -> None:
    for base_url, call in (
        (local_api.url + "/prod", "await api.list(args.user);"),
        (local_api.url, "await api.startJourney('no-such-journey', {});"),
    ):
        with pytest.raises(SdkError) as refused:
            call_sdk(
                sdk,
                "const api = new DeviceKeysApi({ baseUrl: args.baseUrl, token: args.token });" + call,
                baseUrl=base_url,
                user=user_id,
                token=local_api.token(user_id),
            )
        assert (refused.value.code, refused.value.status) == ("not_found", 404), call
        assert "check baseUrl" in refused.value.message


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_an_api_out_of_reach_is_a_retryable_network_error(sdk: Any, user_id: str, silent_server: str) -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    for base_url, timeout, why in (
        (nothing_listens, 10_000, "Failed to fetch"),
        (silent_server, 300, "no answer within 300 ms"),
    ):
        with pytest.raises(SdkError) as refused:
            call_sdk(
                sdk,
                "return await device({ baseUrl: args.baseUrl, timeout: args.timeout }).proof(args.user, 'register');",
                baseUrl=base_url,
                timeout=timeout,
                user=user_id,
            )
        assert (refused.value.code, refused.value.status, refused.value.retryable) == ("network_error", None, True)
        assert refused.value.message == f"cannot reach {base_url}: {why}"

    # an API out of reach says nothing about the device: isKnownDevice throws rather than answer false
    assert call_sdk(sdk, "return await device().hasKey();") is True  # made before asking for a challenge
    with pytest.raises(SdkError) as unknown:
        call_sdk(
            sdk,
            "return await device({ baseUrl: args.baseUrl }).isKnownDevice(args.user);",
            baseUrl=nothing_listens,
            user=user_id,
        )
    assert unknown.value.code == "network_error"


def test_an_algorithm_the_browser_lacks_is_unsupported_algorithm(local_api: LocalApi, page: Any) -> None:
    # GIVEN a browser without Ed25519 in WebCrypto, as older ones are
    page.add_init_script("""{
      const generateKey = SubtleCrypto.prototype.generateKey;
      SubtleCrypto.prototype.generateKey = function (algorithm, ...rest) {
        if (algorithm.name !== "Ed25519") return generateKey.call(this, algorithm, ...rest);
        return Promise.reject(new DOMException("Unrecognized name", "NotSupportedError"));
      };
    }""")
    sdk = open_sdk_page(page, local_api)

    assert call_sdk(sdk, "return [await isAlgorithmSupported('ES256'), await isAlgorithmSupported('Ed25519')];") == [
        True,
        False,
    ]
    for options in ({"algorithm": "Ed25519"}, {"algorithm": "RS256"}):
        with pytest.raises(SdkError) as refused:
            call_sdk(sdk, "return await device(args.options).proof('alice', 'register');", options=options)
        assert (refused.value.code, refused.value.status) == ("unsupported_algorithm", None), options
    assert call_sdk(sdk, "return await device().hasKey();") is False


def test_storage_the_browser_refuses_is_storage_error(local_api: LocalApi, page: Any) -> None:
    sdk = open_sdk_page(page, local_api)
    with pytest.raises(SdkError) as uncloneable:
        call_sdk(sdk, "await device().saveData('callback', () => 'functions cannot be stored');")
    assert uncloneable.value.code == "storage_error"

    page.add_init_script("Object.defineProperty(window, 'indexedDB', { value: undefined });")  # storage disabled
    reload_sdk_page(sdk)
    with pytest.raises(SdkError) as unavailable:
        call_sdk(sdk, "return await device().hasKey();")
    assert (unavailable.value.code, unavailable.value.status) == ("storage_error", None)


# Last in the file: the longer the module has run, the less this test waits for its challenge to expire.
@pytest.fixture(scope="module", autouse=True)
def early_verify_challenge(local_api: LocalApi) -> tuple[str, dict[str, Any], float]:
    """A verify challenge for a new user, issued as the module's first test starts."""
    user = f"user-{uuid.uuid4().hex[:10]}"
    status, _, answer = http(local_api, "POST", f"/v1/users/{user}/device-keys/challenges", {"purpose": "verify"})
    assert status == 201
    return user, answer, time.monotonic()


def test_an_expired_challenge_is_challenge_expired(
    local_api: LocalApi, sdk: Any, early_verify_challenge: tuple[str, dict[str, Any], float]
) -> None:
    """A device handed a challenge that expired before it was signed (a tab asleep, a slow proxy)."""
    user, stale_answer, issued_at = early_verify_challenge
    register(sdk, local_api, user)
    time.sleep(max(0.0, issued_at + CHALLENGE_TTL + 1.1 - time.monotonic()))
    sdk.route("**/device-keys/challenges", lambda route: route.fulfill(status=201, json=stale_answer))

    with pytest.raises(SdkError) as refused:
        call_sdk(sdk, "return await device().verify(args.user);", user=user)

    assert (refused.value.code, refused.value.status) == ("challenge_expired", 401)
