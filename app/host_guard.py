"""Refuse requests whose ``Host`` header names another site: no DNS rebinding of a teacher's local app.

A web page on ``evil.example`` can make its own name resolve to ``127.0.0.1`` (DNS rebinding); the
browser then sends the page's requests — and its websocket — to the explorer on this computer with
``Host: evil.example``, and treats the answers as same-origin. :class:`HostGuard` is an ASGI
middleware (installed by ``app/serve.py`` through Streamlit's ``st.App``) that answers such a request
with 403 before Streamlit sees it, and refuses such a websocket handshake.

Accepted hosts (the port is ignored):

* the loopback names ``localhost``, ``127.0.0.1`` and ``::1`` (and ``*.localhost``);
* the server's own address: the IP the connection arrived on (a classroom run with
  ``--server.address 0.0.0.0`` is reached as ``http://<teacher's IP>:8501``), the address the server
  is bound to, and this computer's host name (``name`` and ``name.local``);
* the names in ``NLHF_ALLOWED_HOSTS`` (comma-separated; ``*.school.example`` matches sub-domains)
  and in Streamlit's own ``server.allowedHosts`` option, for a classroom that uses a DNS name.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from streamlit import config as streamlit_config

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Environment variable with extra host names a classroom uses (comma-separated).
ENV_ALLOWED_HOSTS = "NLHF_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "*.localhost")
WILDCARD_BINDS = ("", "0.0.0.0", "::")
REFUSAL = (
    "This server answers only to its own address (localhost or this computer's IP); a page that uses "
    "another name for it is refused. To use a name, start the app with NLHF_ALLOWED_HOSTS=that.name.\n"
)


def _normalize(name: str) -> str:
    """Lower case, no trailing dot, no IPv6 brackets, IPv4-mapped IPv6 as plain IPv4."""
    name = name.strip().lower().rstrip(".").strip("[]")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def host_name(header: str | None) -> str | None:
    """The host name of a ``Host`` header (``"localhost:8501"`` → ``"localhost"``); None if malformed.

    Args:
        header: the header's value, or None when the request has none.

    Returns:
        The normalized name, or None for a missing, empty or malformed header (user info, a path,
        a port that is not a number).
    """
    if not header:
        return None
    try:
        parts = urlsplit(f"//{header}")
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return _normalize(parts.hostname)


def allowed_hosts(bind_address: str | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names accepted besides the connection's own IP (see the module docstring).

    Args:
        bind_address: Streamlit's ``server.address`` (a wildcard adds nothing).
        extra: more names or ``*.domain`` patterns (Streamlit's ``server.allowedHosts``).

    Returns:
        Normalized names and patterns.
    """
    names = set(LOOPBACK_NAMES)
    if bind_address and bind_address not in WILDCARD_BINDS:
        names.add(bind_address)
    hostname = socket.gethostname()
    if hostname:
        names |= {hostname, f"{hostname}.local"}
    names |= {n for n in os.environ.get(ENV_ALLOWED_HOSTS, "").split(",") if n.strip()}
    names |= {n for n in extra if n.strip() and n.strip() != "*"}
    return frozenset(_normalize(n) for n in names)


def host_is_allowed(header: str | None, server_ip: str | None, allowed: frozenset[str]) -> bool:
    """Whether a request with this ``Host`` header, arriving on ``server_ip``, may be answered.

    Args:
        header: the ``Host`` header.
        server_ip: the local address the connection arrived on (ASGI ``scope["server"][0]``).
        allowed: from :func:`allowed_hosts`.

    Returns:
        True for an allowed name, the connection's own IP, or a sub-domain of a ``*.`` pattern.
    """
    name = host_name(header)
    if name is None:
        return False
    if name in allowed or (server_ip is not None and name == _normalize(server_ip)):
        return True
    return any(p.startswith("*.") and name.endswith(p[1:]) for p in allowed)


class HostGuard:
    """ASGI middleware: HTTP requests and websocket handshakes with an unknown ``Host`` get 403."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None = None) -> None:
        self.app = app
        self._allowed = allowed

    @property
    def allowed(self) -> frozenset[str]:
        """Computed on the first request, once Streamlit's configuration is loaded."""
        if self._allowed is None:
            self._allowed = allowed_hosts(
                streamlit_config.get_option("server.address"), streamlit_config.get_option("server.allowedHosts") or ()
            )
        return self._allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), None)
        server = scope.get("server") or (None, None)
        if host_is_allowed(header, server[0], self.allowed):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": REFUSAL.encode()})
        else:  # closing before accepting refuses the handshake with 403
            await send({"type": "websocket.close", "code": 1008})
