"""The API docs page (/docs) in a real browser: it renders offline and its "Try it out" works."""

from __future__ import annotations

import re
from typing import Any

import pytest
from devicekeys_local.functions import LocalFunctions

from ..conftest import LocalApi
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_docs_page_lists_every_operation_without_the_network(local_api: LocalApi, page: Any) -> None:
    # GIVEN a browser that may reach nothing but the local API (as on a machine offline)
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(local_api.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{local_api.url}/docs")
    page.get_by_text("devicekeys", exact=False).first.wait_for()
    page.locator(".opblock").first.wait_for()

    # THEN every route of the template is an operation on the page
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    expected = {route.path for fn in LocalFunctions().definitions.values() for route in fn.routes}
    assert {path.replace("\u200b", "") for path in shown} >= expected
    assert not outside, outside
    assert screenshot(page, "docs").stat().st_size > 10_000


def test_try_it_out_issues_a_challenge(local_api: LocalApi, page: Any) -> None:
    page.goto(f"{local_api.url}/docs")
    operation = page.locator("#operations-device_keys-issueChallenge")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_placeholder("user_id").fill("alice")
    operation.locator("textarea.body-param__text").fill('{"purpose": "verify"}')
    operation.get_by_role("button", name="Execute").click()

    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("201")
    assert re.search(r'"challenge":\s*"[A-Za-z0-9_-]{43}"', operation.locator(".live-responses-table").inner_text())
    screenshot(page, "docs-try-it-out")
