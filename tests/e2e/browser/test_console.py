"""The device console in a real browser, through its UI only: sign-in, what each person sees, each action.

People sign in on the development issuer's page by typing, as they would; data is set up with
the Python SDK. Screenshots land in .artifacts/screenshots/console-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from devicekeys_client import DeviceBlocked, DeviceKeyPair, DeviceNotFound
from playwright.sync_api import expect

from ..conftest import LocalApi
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def sign_in(page: Any, user: str, *, admin: bool = False, lifetime: int | None = None) -> None:
    """From the console's signed-out screen, through the development issuer's sign-in page."""
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(re.compile("development issuer"))
    page.get_by_label("User name").fill(user)
    if admin:
        page.get_by_label("Grant the admin scope").check()
    if lifetime is not None:
        page.get_by_label("Access token lifetime (seconds)").fill(str(lifetime))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible()


def open_console(page: Any, local_api: LocalApi, route: str = "") -> None:
    page.goto(f"{local_api.url}/console/{route}")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def card(page: Any, name: str) -> Any:
    return page.get_by_role("article", name=name)


def mark_page(page: Any) -> None:
    """A marker that survives only as long as the page does: its absence later means a reload."""
    page.evaluate("window.noReloadSince = true")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.noReloadSince === true")


@pytest.fixture
def alice(local_api: LocalApi, new_user: Callable[[], str]) -> tuple[str, dict[str, DeviceKeyPair]]:
    """A user with a verified laptop (custom data) and a phone an administrator blocked."""
    user = new_user()
    owner = local_api.client(user)
    laptop, phone = DeviceKeyPair.generate("ES256"), DeviceKeyPair.generate("Ed25519")
    owner.register(user, laptop, display_name="Work laptop", custom_data={"os": "linux", "managed": True})
    owner.register(user, phone, display_name="Old phone")
    owner.verify(user, laptop)
    local_api.client("security-team", admin=True).block(user, phone.key_id, reason="reported stolen")
    return user, {"laptop": laptop, "phone": phone}


def test_an_administrator_signs_in_and_sees_a_users_devices(local_api: LocalApi, page: Any, alice: Any) -> None:
    user, _ = alice
    open_console(page, local_api)
    screenshot(page, "console-signed-out")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Grant the admin scope")).to_be_visible()
    screenshot(page, "console-sign-in-page")
    page.go_back()

    sign_in(page, "security-team", admin=True)
    expect(page.get_by_text("Administrator", exact=True)).to_be_visible()
    page.get_by_label("User ID").fill(user)
    page.get_by_role("button", name="Show devices").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Devices of {user}")
    expect(page.get_by_text("2 device keys, 1 blocked")).to_be_visible()
    laptop, phone = card(page, "Work laptop"), card(page, "Old phone")
    expect(laptop.get_by_text("Active", exact=True)).to_be_visible()
    expect(laptop).to_contain_text("ES256")
    expect(laptop).to_contain_text('"os": "linux"')
    expect(laptop.locator("dd", has_text="Never")).to_have_count(0)  # verified: a date
    expect(phone.get_by_text("Blocked", exact=True)).to_be_visible()
    expect(phone).to_contain_text("Ed25519")
    expect(phone).to_contain_text("reported stolen")
    expect(phone.get_by_role("button", name="Unblock")).to_be_visible()
    screenshot(page, "console-admin")

    # The token never reaches storage: the sign-in's one-time values are gone too.
    assert page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]


def test_an_administrator_renames_and_edits_custom_data_in_place(local_api: LocalApi, page: Any, alice: Any) -> None:
    user, devices = alice
    open_console(page, local_api, f"#/users/{user}")
    sign_in(page, "security-team", admin=True)
    mark_page(page)

    card(page, "Work laptop").get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog", name="Rename Work laptop")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("Ada's laptop")
    dialog.get_by_role("button", name="Rename").click()
    expect(dialog).to_be_hidden()
    expect(card(page, "Ada's laptop")).to_be_visible()

    card(page, "Ada's laptop").get_by_role("button", name="Edit custom data").click()
    dialog = page.get_by_role("dialog", name="Custom data of Ada's laptop")
    field = dialog.get_by_label("Custom data (JSON object)")
    field.fill('{"os": "linux",')
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("This is not valid JSON")).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill('["not", "an", "object"]')
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Custom data is a JSON object")).to_be_visible()
    screenshot(page, "console-custom-data-invalid")
    admin = local_api.client("security-team", admin=True)
    assert admin.get(user, devices["laptop"].key_id).custom_data == {"os": "linux", "managed": True}  # nothing sent

    field.fill('{"os": "linux", "team": "finance"}')
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(card(page, "Ada's laptop")).to_contain_text('"team": "finance"')
    record = admin.get(user, devices["laptop"].key_id)
    assert (record.display_name, record.custom_data) == ("Ada's laptop", {"os": "linux", "team": "finance"})
    assert_not_reloaded(page)


def test_an_administrator_blocks_unblocks_and_deletes(local_api: LocalApi, page: Any, alice: Any) -> None:
    user, devices = alice
    anyone = local_api.client()
    open_console(page, local_api, f"#/users/{user}")
    sign_in(page, "security-team", admin=True)
    mark_page(page)

    card(page, "Work laptop").get_by_role("button", name="Block").click()
    dialog = page.get_by_role("dialog", name="Block Work laptop?")
    dialog.get_by_label("Reason (optional)").fill("left the company")
    screenshot(page, "console-block-dialog")
    dialog.get_by_role("button", name="Block device").click()
    expect(dialog).to_be_hidden()
    laptop = card(page, "Work laptop")
    expect(laptop.get_by_text("Blocked", exact=True)).to_be_visible()
    expect(laptop).to_contain_text("left the company")
    expect(page.get_by_text("2 device keys, 2 blocked")).to_be_visible()
    with pytest.raises(DeviceBlocked):
        anyone.verify(user, devices["laptop"])

    laptop.get_by_role("button", name="Unblock").click()
    page.get_by_role("dialog", name="Unblock Work laptop?").get_by_role("button", name="Unblock device").click()
    expect(laptop.get_by_text("Active", exact=True)).to_be_visible()
    assert anyone.verify(user, devices["laptop"]).known

    card(page, "Old phone").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete Old phone?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice comes first
    dialog.get_by_role("button", name="Delete device").click()
    expect(card(page, "Old phone")).to_have_count(0)
    expect(page.get_by_text("1 device key", exact=True)).to_be_visible()
    with pytest.raises(DeviceNotFound):
        local_api.client("security-team", admin=True).get(user, devices["phone"].key_id)
    assert_not_reloaded(page)


def test_a_user_manages_their_own_devices_but_not_a_blocked_one(local_api: LocalApi, page: Any, alice: Any) -> None:
    user, devices = alice
    open_console(page, local_api)
    sign_in(page, user)

    expect(page.get_by_role("heading", level=1)).to_have_text("My devices")
    expect(page.get_by_role("navigation")).to_be_hidden()  # one screen: nothing to navigate
    expect(page.get_by_role("button", name="Block")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit custom data")).to_have_count(0)
    phone = card(page, "Old phone")
    expect(phone).to_contain_text("only an administrator can unblock or delete it")
    expect(phone.get_by_role("button", name="Delete")).to_have_count(0)
    screenshot(page, "console-my-devices")

    card(page, "Work laptop").get_by_role("button", name="Rename").click()
    page.get_by_role("dialog").get_by_label("Name").fill("Home laptop")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    card(page, "Home laptop").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete Home laptop?").get_by_role("button", name="Delete device").click()
    expect(card(page, "Home laptop")).to_have_count(0)
    with pytest.raises(DeviceNotFound):
        local_api.client(user).get(user, devices["laptop"].key_id)


def test_a_user_cannot_see_another_users_devices(
    local_api: LocalApi, page: Any, alice: Any, new_user: Callable[[], str]
) -> None:
    user, _ = alice
    intruder = new_user()
    open_console(page, local_api, f"#/users/{user}")
    sign_in(page, intruder)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not allowed")
    expect(alert).to_contain_text(f"cannot see the devices of {user}")
    expect(page.get_by_role("article")).to_have_count(0)
    screenshot(page, "console-forbidden")
    alert.get_by_role("link", name="See your own devices").click()
    expect(page.get_by_text("You have no device keys yet")).to_be_visible()


def test_the_user_sees_which_device_is_this_browser(
    local_api: LocalApi, page: Any, new_user: Callable[[], str]
) -> None:
    user = new_user()
    local_api.client(user).register(user, DeviceKeyPair.generate(), display_name="Phone")
    open_console(page, local_api)
    # An app on this origin registered this browser with the browser SDK (its key stays in IndexedDB).
    page.evaluate(
        """async ([baseUrl, user, token]) => {
            const { DeviceKeys } = await import("/sdk/devicekeys.js");
            await new DeviceKeys({ baseUrl }).register(user, { token, displayName: "This laptop" });
        }""",
        [local_api.url, user, local_api.token(user)],
    )
    page.reload()
    sign_in(page, user)

    expect(card(page, "This laptop").get_by_text("This browser")).to_be_visible()
    expect(card(page, "Phone").get_by_text("This browser")).to_have_count(0)
    expect(page.get_by_role("article").first).to_have_accessible_name("This laptop")  # listed first


def test_an_expired_session_asks_to_sign_in_again_and_comes_back(local_api: LocalApi, page: Any, alice: Any) -> None:
    user, _ = alice
    lifetime = 3
    open_console(page, local_api, f"#/users/{user}")
    sign_in(page, "security-team", admin=True, lifetime=lifetime)
    signed_in = time.monotonic()
    expect(card(page, "Work laptop")).to_be_visible()

    time.sleep(max(0.0, lifetime + 1 - (time.monotonic() - signed_in)))
    page.get_by_role("button", name="Refresh").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your session has ended")
    expect(alert).to_contain_text("the token has expired")
    screenshot(page, "console-session-ended")

    sign_in(page, "security-team", admin=True)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Devices of {user}")


def test_cancelling_the_sign_in_and_signing_out(local_api: LocalApi, page: Any) -> None:
    open_console(page, local_api)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("The sign-in was cancelled")

    sign_in(page, "someone")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="Signed out")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def test_loading_empty_and_network_failures_are_shown(
    local_api: LocalApi, page: Any, new_user: Callable[[], str]
) -> None:
    open_console(page, local_api)
    sign_in(page, new_user())
    expect(page.get_by_text("You have no device keys yet")).to_be_visible()

    held: list[Any] = []

    def hold(route: Any) -> None:  # Playwright tags its handler: a built-in (held.append) cannot be
        held.append(route)

    page.route("**/v1/users/me/device-keys*", hold)
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_text("Loading device keys…")).to_be_visible()
    held[0].abort("internetdisconnected")
    page.unroute("**/v1/users/me/device-keys*")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The devicekeys API cannot be reached")
    screenshot(page, "console-network-down")

    alert.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("You have no device keys yet")).to_be_visible()


def test_the_dialogs_work_with_the_keyboard(local_api: LocalApi, page: Any, alice: Any) -> None:
    user, _ = alice
    open_console(page, local_api)
    sign_in(page, user)
    rename = card(page, "Work laptop").get_by_role("button", name="Rename")
    rename.focus()

    page.keyboard.press("Enter")
    name = page.get_by_role("dialog").get_by_label("Name")
    expect(name).to_be_focused()
    page.keyboard.press("Escape")  # cancels: nothing changes, the focus comes back
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(rename).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.press("Control+A")
    page.keyboard.type("Laptop (keyboard)")
    page.keyboard.press("Enter")
    renamed = card(page, "Laptop (keyboard)")
    expect(renamed.get_by_role("button", name="Rename")).to_be_focused()


def test_the_console_fits_a_phone(local_api: LocalApi, browser: Any, alice: Any) -> None:
    user, _ = alice
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        open_console(page, local_api, f"#/users/{user}")
        sign_in(page, "security-team", admin=True)
        expect(card(page, "Work laptop")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        screenshot(page, "console-phone")

        card(page, "Old phone").get_by_role("button", name="Delete").click()
        dialog_box = page.get_by_role("dialog").bounding_box()
        assert dialog_box["x"] >= 0 and dialog_box["x"] + dialog_box["width"] <= 390
        screenshot(page, "console-phone-dialog")
    finally:
        context.close()
