"""The local API serves the web apps' folders as they are, and nothing outside them."""

from __future__ import annotations

from pathlib import Path

import pytest
from devicekeys_local.static_files import StaticFiles


@pytest.fixture
def static(tmp_path: Path) -> StaticFiles:
    (tmp_path / "app" / "lib").mkdir(parents=True)
    (tmp_path / "app" / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "app" / "lib" / "sdk.js").write_text("export const x = 1;")
    (tmp_path / "secret.txt").write_text("not for the web")
    (tmp_path / "app" / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return StaticFiles({"/app/": tmp_path / "app"})


def test_files_and_the_index_are_served_with_their_types(static: StaticFiles) -> None:
    index = static.response("/app/")
    script = static.response("/app/lib/sdk.js")
    assert index is not None and index.status == 200 and b"<title>app</title>" in index.body
    assert script is not None and ("content-type", "text/javascript; charset=utf-8") in script.headers
    assert ("x-frame-options", "DENY") in script.headers
    redirect = static.response("/app")
    assert redirect is not None and (redirect.status, redirect.headers) == (308, [("location", "/app/")])


@pytest.mark.parametrize(
    "path",
    ["/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/escape.txt", "/app/missing.js", "/app/lib/../../secret.txt"],
)
def test_nothing_outside_the_folder_is_served(static: StaticFiles, path: str) -> None:
    response = static.response(path)
    assert response is not None and response.status == 404 and b"not for the web" not in response.body


def test_paths_outside_every_mount_are_left_to_the_gateway(static: StaticFiles) -> None:
    assert static.response("/v1/users/alice/device-keys") is None
