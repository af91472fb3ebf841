"""GET /console and its assets: the console's static shell (no auth; it carries no secret).

The page calls the API from the browser like any client: in api_key mode it asks for the key and
keeps it in the tab's sessionStorage; in iam mode `tasklane console` serves it on localhost and
signs the calls. The one thing the shell is told is the stack's auth mode, so it knows what to ask.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.routes.http import error_response
from tasklane.settings import settings

router = Router()

ASSETS = Path(__file__).resolve().parent.parent / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# Only the files the console folder holds when the function loads are served: a view added there (a
# module and its section) is served with no change here, and nothing is looked up from a name the
# caller sends.
CONTENT_TYPES = {
    path.name: TYPES[path.suffix] for path in sorted(ASSETS.iterdir()) if path.is_file() and path.suffix in TYPES
}
AUTH_MODE_MARK = "{{auth_mode}}"
# Scripts from the page's own origin only; uPlot sizes its elements through style attributes.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _answer(name: str) -> Response[str]:
    body = _asset(name)
    if name == "index.html":
        body = body.replace(AUTH_MODE_MARK, settings().auth_mode)
    # The shell is small and changes with each deployment: always fetched again.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return Response(status_code=200, content_type=CONTENT_TYPES[name], body=body, headers=headers)


@router.get("/console", include_in_schema=False)
def console_page() -> Response[str]:
    return _answer("index.html")


@router.get("/console/<asset>", include_in_schema=False)
def console_asset(asset: str) -> Response[str]:
    if asset not in CONTENT_TYPES:
        return error_response(404, "not_found", f"no console file {asset!r}")
    return _answer(asset)
