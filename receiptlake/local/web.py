"""The local web server's app: /config.json, the API under /api (the very app Lambda
runs) and the built web app with SPA routing, on one origin as CloudFront serves them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

NOT_BUILT = """<!doctype html><title>receiptlake</title>
<p>The web app is not built yet: run <code>make webapp</code> (or <code>make demo</code>).
The API is at <a href="/api/docs">/api/docs</a>.</p>"""


class SpaFiles(StaticFiles):
    """Static files; an unknown path that is not a file gets index.html (client-side routes)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or "." in Path(path).name:
                raise
            return await super().get_response("index.html", scope)


class LocalWebApp:
    def __init__(self, api: ASGIApp, config: dict[str, Any], dist: Path | None) -> None:
        self.api = api
        self.config = config
        self.static: ASGIApp | None = (
            SpaFiles(directory=dist, html=True) if dist and (dist / "index.html").exists() else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "lifespan" or path == "/api" or path.startswith("/api/"):
            await self.api(scope, receive, send)
            return
        if path == "/config.json":
            response: Response = JSONResponse(self.config, headers={"Cache-Control": "no-store"})
        elif self.static is not None:
            await self.static(scope, receive, send)
            return
        else:
            response = HTMLResponse(NOT_BUILT)
        await response(scope, receive, send)
