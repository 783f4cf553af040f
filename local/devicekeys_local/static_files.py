"""The web half of the product, served by the local API as files: the browser SDK, the console, the demo.

Each mount maps a URL prefix to a folder of the repository, so the pages a developer opens at
``/console/`` or ``/demo/`` are the very files a deployment hosts. Serving needs no Node and no
build step. Only files under a mount's folder are served (no ``..``, no symlinks out of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .gateway import GatewayResponse
from .template import ROOT

WEB = ROOT / "clients" / "web"
# URL prefix -> folder; a request for the prefix itself serves the folder's index.html
MOUNTS = {
    "/sdk/": WEB / "sdk",
    "/console/": WEB / "console",
    "/demo/": WEB / "demo",
    "/vendor/": WEB / "vendor",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".d.ts": "text/plain; charset=utf-8",
    ".map": "application/json",
}
# Pages of the product: nothing may frame them, and they run only their own scripts.
SECURITY_HEADERS = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
]


@dataclass(frozen=True)
class StaticFiles:
    mounts: dict[str, Path]

    def response(self, path: str) -> GatewayResponse | None:
        """The file ``path`` names under a mount; None when no mount covers it (the gateway answers)."""
        for prefix, folder in self.mounts.items():
            if path == prefix.rstrip("/"):
                return GatewayResponse(308, [("location", prefix)])
            if path.startswith(prefix):
                return self._file(folder, unquote(path[len(prefix) :]) or "index.html")
        return None

    @staticmethod
    def _file(folder: Path, relative: str) -> GatewayResponse:
        root = folder.resolve()
        target = (root / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if root not in target.parents or not target.is_file():
            return GatewayResponse(404, [("content-type", "text/plain; charset=utf-8")], b"Not Found")
        suffix = ".d.ts" if target.name.endswith(".d.ts") else target.suffix
        content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
        headers = [("content-type", content_type), ("cache-control", "no-cache"), *SECURITY_HEADERS]
        return GatewayResponse(200, headers, target.read_bytes())


STATIC = StaticFiles(MOUNTS)
