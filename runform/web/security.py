"""Who may talk to the web app: the Host check (DNS rebinding), the Origin check (cross-site requests)
and, when the app listens beyond this computer, an access token.

A web page the user happens to visit can make the browser send requests to the app; the browser then
names that page's site in `Origin` (or `Referer`). State-changing requests are accepted only from the
app's own pages or from clients that name no page at all (curl, scripts). A DNS name pointed at this
computer reaches the app with that name in `Host`, so only known names (and IP addresses, which no
rebinding can forge) are served. See docs/web-app.md.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
TOKEN_COOKIE = "runform_token"
TOKEN_PARAM = "token"


def _split_host(value: str) -> str:
    """'Example.com:8000' -> 'example.com'; '[::1]:8000' -> '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _ip(host: str) -> ipaddress._BaseAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def host_allowed(host_header: str, names: tuple[str, ...], *, any_ip: bool) -> bool:
    """Loopback: only this computer's own names. Beyond it: also any IP address (a rebinding attack
    needs a DNS name) and the names given with --allowed-host."""
    host = _split_host(host_header or "")
    if not host:
        return False
    if host in names:
        return True
    ip = _ip(host)
    return ip is not None and (ip.is_loopback or any_ip)


def same_origin(source: str, host_header: str) -> bool:
    """True when an Origin or Referer value names the page's own scheme-less host:port (the Host header)."""
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == (host_header or "").strip().lower()


class Guard:
    """ASGI middleware applying the three checks before any route runs."""

    def __init__(self, app, *, allowed_names: tuple[str, ...], any_ip: bool, token: str | None):
        self.app = app
        self.names = tuple(n.lower().strip("[]") for n in allowed_names)
        self.any_ip = any_ip
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not host_allowed(host, self.names, any_ip=self.any_ip):
            return await _plain(send, 400, "Invalid host header: this name is not one the runform app answers to "
                                           "(start it with --allowed-host NAME to add one).")
        method = scope.get("method", "GET").upper()
        if method not in SAFE_METHODS:
            source = headers.get("origin") or headers.get("referer")
            if source is not None and not same_origin(source, host):
                return await _error(send, scope, 403, "CrossOrigin",
                                    "This request came from another web site; only the runform pages may change data.")
        if self.token is not None and not scope.get("path", "").startswith("/static/"):
            given = _token_from(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return await _error(send, scope, 401, "TokenRequired",
                                    "Open the address printed by `runform serve` (it ends with ?token=...).")
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            if TOKEN_PARAM in query and method in SAFE_METHODS:  # remember it, and take it out of the address bar
                query.pop(TOKEN_PARAM)
                location = scope.get("path", "/") + (f"?{urlencode(query)}" if query else "")
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                return await _send(send, 303, b"", [(b"location", location.encode()),
                                                     (b"set-cookie", cookie.encode())])
        return await self.app(scope, receive, send)


def _token_from(scope, headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "cookie" in headers:
        c = SimpleCookie()
        try:
            c.load(headers["cookie"])
        except Exception:  # noqa: BLE001 - a malformed cookie header is no token
            c = SimpleCookie()
        if TOKEN_COOKIE in c:
            return c[TOKEN_COOKIE].value
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if k == TOKEN_PARAM:
            return v
    return None


async def _send(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = headers + [(b"content-length", str(len(body)).encode()), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"same-origin")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _plain(send, status: int, text: str) -> None:
    await _send(send, status, text.encode(), [(b"content-type", b"text/plain; charset=utf-8")])


async def _error(send, scope, status: int, kind: str, message: str) -> None:
    """The API's JSON error form ({detail, error}) for /api, a short HTML page for the pages."""
    from .messages import user_error

    if scope.get("path", "").startswith("/api/"):
        err = user_error(kind, message)
        body = json.dumps({"detail": f"{err['title']}: {message}", "error": err}).encode()
        return await _send(send, status, body, [(b"content-type", b"application/json")])
    from html import escape

    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>runform</title></head><body>"
            f"<h1>{'Access token needed' if status == 401 else 'Not allowed'}</h1><p>{escape(message)}</p>"
            "</body></html>")
    await _send(send, status, page.encode(), [(b"content-type", b"text/html; charset=utf-8")])
