"""Reliability II (issue 18): messages, server settings, hostile hosts, uploads (heavy work: test_work_budget)."""

from __future__ import annotations

import asyncio
import http.client
import tomllib
import urllib.parse

import pytest
import websockets
from streamlit.testing.v1 import AppTest

from app.host_guard import ENV_ALLOWED_HOSTS, allowed_hosts, host_is_allowed, host_name
from nlhf_core.errors import NLHFError, ParameterError
from nlhf_core.games.io import MAX_UPLOAD_BYTES, game_from_upload
from nlhf_core.params import ParamSpec, lower_first, short_number
from nlhf_core.policy_gradient.registry import get_pg_algorithm
from tests.browser_helpers import ROOT, streamlit_process
from tests.protocol_client import ProtocolSession

APP = str(ROOT / "app" / "main.py")


# ---------------------------------------------------------------------- messages (item 9)
def test_out_of_range_messages_show_plain_numbers_and_keep_acronyms():
    steps = ParamSpec("steps", 1000, "Number of gradient steps", kind="int", low=1, high=200_000)
    with pytest.raises(ParameterError) as err:
        steps.validate(10**9)
    assert str(err.value) == "steps = 1000000000 is outside its valid range [1, 200000]; number of gradient steps."
    tau = get_pg_algorithm("nash-md-pg").param("tau")
    with pytest.raises(ParameterError) as err:
        tau.validate(1e9)
    assert str(err.value) == "tau = 1e9 is outside its valid range [0.001, 1000]; KL-regularization strength."
    assert "e+" not in str(err.value) and "kL" not in str(err.value)
    assert [short_number(x) for x in (1e9, 2.5e-7, 0.001, 1000.0, 0.1)] == ["1e9", "2.5e-7", "0.001", "1000", "0.1"]
    assert lower_first("Step size") == "step size" and lower_first("KL strength") == "KL strength"


# ---------------------------------------------------------------------- tracebacks (item 4)
def test_config_hides_error_details_from_the_browser():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"  # generic message; no type, text or traceback


@pytest.mark.slow
def test_an_unexpected_error_shows_no_server_path(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text(f"import streamlit as st\nst.write('before')\nraise RuntimeError({str(ROOT / 'app')!r})\n")
    with streamlit_process(str(script)) as (url, _):  # run from the repository: its config applies

        async def exceptions():
            async with ProtocolSession(url, timeout=60) as session:
                run = await session.open()
                return [e.exception for e in run.elements if e.WhichOneof("type") == "exception"]

        [shown] = asyncio.run(exceptions())
    assert "redacted" in shown.message and str(ROOT) not in str(shown)
    assert not shown.stack_trace and not shown.type


# ---------------------------------------------------------------------- hosts (item 5)
def test_host_names_are_parsed_strictly():
    assert host_name("localhost:8501") == "localhost" and host_name("[::1]:8501") == "::1"
    assert host_name("LOCALHOST.") == "localhost" and host_name("[::ffff:127.0.0.1]") == "127.0.0.1"
    for bad in (None, "", "localhost:port", "evil@localhost", "localhost/x", "localhost:99999"):
        assert host_name(bad) is None, bad


def test_only_loopback_own_address_and_named_hosts_are_allowed(monkeypatch):
    monkeypatch.setenv(ENV_ALLOWED_HOSTS, "class.example, *.school.example")
    allowed = allowed_hosts("0.0.0.0", ["lab.example"])
    ok = [
        "localhost:8501",
        "127.0.0.1",
        "[::1]:8501",
        "class.example",
        "a.school.example",
        "lab.example",
        "x.localhost",
    ]
    for host in ok:
        assert host_is_allowed(host, "192.168.1.20", allowed), host
    assert host_is_allowed("192.168.1.20:8501", "192.168.1.20", allowed)  # the server's own address
    for host in ("evil.example", "192.168.1.21", "localhost.evil.example", "school.example.evil", "0.0.0.0", None):
        assert not host_is_allowed(host, "192.168.1.20", allowed), host
    assert "10.0.0.5" in allowed_hosts("10.0.0.5") and "0.0.0.0" not in allowed_hosts("0.0.0.0")


def http_status(url: str, host: str, path: str = "/") -> int:
    """Status of a raw HTTP GET carrying exactly this Host header."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


async def websocket_handshake(url: str, host: str) -> int:
    """HTTP status of a websocket handshake to ``url``'s server carrying ``Host: host`` (101 = accepted)."""
    parts = urllib.parse.urlsplit(url)
    name, _, port = host.partition(":")
    try:
        ws = await websockets.connect(
            f"ws://{name}:{port or parts.port}/_stcore/stream",
            subprotocols=["streamlit"],
            host=parts.hostname,  # where to connect; the URI gives the Host header
            port=parts.port,
            open_timeout=30,
        )
    except websockets.InvalidStatus as err:
        return err.response.status_code
    await ws.close()
    return 101


@pytest.mark.slow
def test_a_real_server_refuses_unknown_hosts(monkeypatch):
    monkeypatch.setenv(ENV_ALLOWED_HOSTS, "class.example")
    with streamlit_process("app/serve.py") as (url, _):
        port = urllib.parse.urlsplit(url).port
        assert http_status(url, "evil.example") == 403
        assert http_status(url, f"evil.example:{port}", "/_stcore/health") == 403
        assert http_status(url, f"localhost:{port}") == 200
        assert http_status(url, f"127.0.0.1:{port}", "/_stcore/health") == 200
        assert http_status(url, "class.example") == 200
        assert asyncio.run(websocket_handshake(url, f"evil.example:{port}")) == 403
        assert asyncio.run(websocket_handshake(url, f"localhost:{port}")) == 101


# ---------------------------------------------------------------------- uploads (item 6)
def test_upload_limit_reads_the_same_everywhere():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES == 5 * 2**20  # Streamlit counts MiB
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    captions = [c.value for c in at.sidebar.caption]
    assert any("5 MiB" in c and "5,242,880 bytes" in c and "refused" in c for c in captions), captions
    header = ",a,b\na,0.5,0.4\nb,0.6,0.5\n"
    exact = (header + "\n" * (MAX_UPLOAD_BYTES - len(header))).encode()
    assert game_from_upload("big.csv", exact).labels == ("a", "b")  # exactly 5 MiB is accepted
    with pytest.raises(NLHFError) as err:
        game_from_upload("big.csv", exact + b"\n")
    assert str(err.value) == (
        "The file 'big.csv' is larger than 5 MiB (5,242,881 bytes, the limit is 5,242,880); upload a smaller game."
    )
