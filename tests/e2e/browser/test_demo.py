"""The demo app (clients/web/demo/, served at /demo/) used as a person uses it: through its labels
and buttons, on a phone-width screen and a desktop one, against the session's local API.

Screenshots of each state go to .artifacts/screenshots/demo-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import LocalApi
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page the size of a phone's screen, touch and all."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def open_demo(page: Any, local_api: LocalApi) -> Any:
    page.goto(f"{local_api.url}/demo/")
    expect(page.get_by_role("status")).not_to_have_text("Loading…")
    return page


def sign_in_with_password(page: Any, user: str) -> None:
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in with password").click()
    expect(page.get_by_role("heading", name=f"Signed in as {user}")).to_be_visible()


def register_this_device(page: Any, user: str, name: str) -> str:
    """Register from the form shown after a password sign-in; returns the key id the page shows."""
    page.get_by_label("Device name").fill(name)
    page.get_by_role("button", name="Register this device").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Registered “{name}” for {user}. Next time, this device signs you in."
    )
    key_id = page.locator("#key-id")
    expect(key_id).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))  # filled once the page has re-read the device
    return str(key_id.inner_text())


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def test_a_new_device_registers_then_signs_in_by_itself(local_api: LocalApi, phone: Any, user_id: str) -> None:
    open_demo(phone, local_api)
    expect(phone.get_by_role("status")).to_have_text("Sign in to start.")
    screenshot(phone, "demo-phone-sign-in")

    sign_in_with_password(phone, user_id)
    expect(phone.get_by_role("status")).to_contain_text("New device (no_device_proof)")
    expect(phone.locator("#step-up-outcome")).to_have_text("step_up_required (reason: no_device_proof)")
    screenshot(phone, "demo-phone-new-device")

    phone.get_by_label("Custom data").fill('{"os": "android"}')
    key_id = register_this_device(phone, user_id, "Ada's phone")
    screenshot(phone, "demo-phone-registered")
    record = local_api.client(user_id).get(user_id, key_id)
    assert (record.display_name, record.custom_data, record.status) == ("Ada's phone", {"os": "android"}, "active")

    phone.reload()  # the password session is gone; the device is not
    expect(phone.get_by_role("status")).to_have_text(
        f"Welcome back, {user_id}: this device (Ada's phone) signed you in, no password needed."
    )
    expect(phone.get_by_role("heading", name=f"Signed in as {user_id}")).to_be_visible()
    expect(phone.get_by_text("With this device: no password.")).to_be_visible()
    expect(phone.get_by_role("button", name="Delete this device")).to_be_hidden()  # that needs a token
    screenshot(phone, "demo-phone-returning")
    assert local_api.client(user_id).get(user_id, key_id).last_verified_at is not None


def test_after_the_password_a_known_device_completes_and_a_blocked_one_is_refused(
    local_api: LocalApi, page: Any, user_id: str
) -> None:
    open_demo(page, local_api)
    sign_in_with_password(page, user_id)
    key_id = register_this_device(page, user_id, "Work laptop")
    sign_out(page)

    sign_in_with_password(page, user_id)
    expect(page.locator("#step-up-outcome")).to_have_text("complete")
    expect(page.get_by_role("status")).to_have_text("Known device: no second factor needed.")
    expect(page.get_by_role("heading", name="Register this device")).to_be_hidden()
    screenshot(page, "demo-step-up-complete")

    local_api.client("security-team", admin=True).block(user_id, key_id, reason="reported stolen")
    sign_out(page)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in with password").click()
    expect(page.locator("#step-up-outcome")).to_have_text("rejected (reason: device_blocked)")
    expect(page.get_by_role("status")).to_have_text(
        f"This device is blocked for {user_id}: the password alone does not let it in."
    )
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_focused()  # not signed in
    expect(page.get_by_role("heading", name="Register this device")).to_be_hidden()
    expect(page.get_by_role("button", name="Delete this device")).to_be_hidden()
    screenshot(page, "demo-step-up-rejected")

    page.reload()
    expect(page.get_by_role("status")).to_have_text(
        f"This device is blocked for {user_id}: an administrator blocked it. Use another device or contact support."
    )
    expect(page.get_by_label("User name")).to_have_value(user_id)
    screenshot(page, "demo-returning-blocked")


def test_a_device_removed_from_the_account_is_refused_as_unknown(local_api: LocalApi, page: Any, user_id: str) -> None:
    open_demo(page, local_api)
    sign_in_with_password(page, user_id)
    key_id = register_this_device(page, user_id, "Old tablet")
    local_api.client(user_id).delete(user_id, key_id)  # from another device, or the console

    page.reload()

    expect(page.get_by_role("status")).to_have_text(
        f"This device is not registered for {user_id} (any more). Sign in with your password."
    )
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    screenshot(page, "demo-returning-unknown")


def test_delete_this_device_removes_it_from_the_account(local_api: LocalApi, page: Any, user_id: str) -> None:
    open_demo(page, local_api)
    sign_in_with_password(page, user_id)
    register_this_device(page, user_id, "Shared desktop")

    page.get_by_role("button", name="Delete this device").click()

    expect(page.get_by_role("status")).to_have_text(
        "Deleted this device from your account: it is a new device now. Register it again to use it."
    )
    expect(page.get_by_role("heading", name="Register this device")).to_be_visible()
    assert local_api.client(user_id).count(user_id) == 0
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Sign in to start.")  # it no longer signs in by itself


def test_forget_this_device_leaves_the_account_untouched(local_api: LocalApi, page: Any, user_id: str) -> None:
    open_demo(page, local_api)
    sign_in_with_password(page, user_id)
    key_id = register_this_device(page, user_id, "Hotel computer")

    page.get_by_role("button", name="Forget this device").click()

    expect(page.get_by_role("status")).to_have_text(
        "This browser forgot its device key. Your account lists the device until you delete it."
    )
    expect(page.get_by_role("heading", name="This device", exact=True)).to_be_hidden()
    screenshot(page, "demo-forgotten")
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Sign in to start.")
    expect(page.get_by_role("button", name="Sign in with this device")).to_be_hidden()
    assert local_api.client(user_id).get(user_id, key_id).status == "active"


def test_signing_in_and_registering_work_from_the_keyboard(local_api: LocalApi, page: Any, user_id: str) -> None:
    open_demo(page, local_api)

    page.keyboard.press("Tab")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type(user_id)
    page.keyboard.press("Tab")
    page.keyboard.type("hunter2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Signed in as {user_id}")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign out")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Device name")).to_be_focused()
    page.keyboard.type("Keyboard only")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text(
        f"Registered “Keyboard only” for {user_id}. Next time, this device signs you in."
    )
    screenshot(page, "demo-registered")


def test_the_page_shows_work_in_progress_and_mistakes(local_api: LocalApi, page: Any, user_id: str) -> None:
    open_demo(page, local_api)
    sign_in_with_password(page, user_id)
    page.get_by_label("Device name").fill("Test phone")
    custom_data = page.get_by_label("Custom data")
    custom_data.fill("{not json")

    page.get_by_role("button", name="Register this device").click()
    expect(page.get_by_role("status")).to_have_text('Custom data must be a JSON object, like {"os": "linux"}.')
    expect(custom_data).to_have_attribute("aria-invalid", "true")

    # while the API works, the form says so and cannot be sent twice
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route(f"**/v1/users/{user_id}/device-keys", hold)
    custom_data.fill('{"os": "android"}')
    page.get_by_role("button", name="Register this device").click()
    expect(page.locator("#register-form")).to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("status")).to_have_text("Registering this device…")
    expect(page.get_by_role("button", name="Register this device")).to_be_disabled()
    screenshot(page, "demo-registering")
    held[0].continue_()
    expect(page.get_by_role("status")).to_contain_text("Registered “Test phone”")
    expect(custom_data).to_have_attribute("aria-invalid", "false")
    expect(page.get_by_role("button", name="Forget this device")).to_be_enabled()
