"""A Streamlit session without a browser: the websocket protocol the browser speaks, for load and isolation tests.

The browser's part of a page (parsing Streamlit's and Plotly's JavaScript, rendering the charts) runs
on each student's own computer in a classroom; only the script runs, the protobuf deltas and the
websocket are the server's. This client does exactly the server's side of what a browser asks: it
opens ``/_stcore/stream`` with the ``streamlit`` subprotocol, sends ``BackMsg.rerun_script`` with
the widget states a user's action would produce, and reads ``ForwardMsg`` deltas until the script
finishes. It can then check what the server sent (the Nash marker of the Playground's chart).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")


@dataclass
class ScriptRun:
    """What the server sent for one user action: seconds until the script finished, and its elements."""

    seconds: float
    elements: list = field(default_factory=list)

    def widget_id(self, key: str) -> str:
        """The element id of the widget whose key is ``key`` (ids end in ``-<key>``)."""
        for element_id in self._ids():
            if element_id.endswith(f"-{key}"):
                return element_id
        raise LookupError(f"no widget with key {key!r} in this run")

    def widget_id_starting(self, prefix: str) -> tuple[str, str]:
        """``(id, key)`` of the first widget whose key starts with ``prefix`` (keys that carry a version)."""
        for element_id in self._ids():
            if f"-{prefix}" in element_id:
                return element_id, element_id[element_id.index(f"-{prefix}") + 1 :]
        raise LookupError(f"no widget with a key starting {prefix!r} in this run")

    def _ids(self):
        """The ids of this run's elements ("" for elements without one)."""
        for element in self.elements:
            yield getattr(getattr(element, element.WhichOneof("type")), "id", "")

    def exceptions(self) -> list[str]:
        """Messages of the exceptions the page would show."""
        return [e.exception.message for e in self.elements if e.WhichOneof("type") == "exception"]

    def has_text(self, text: str) -> bool:
        """Whether some Markdown element (text, captions) contains ``text``."""
        return any(e.WhichOneof("type") == "markdown" and text in e.markdown.body for e in self.elements)

    def chart(self, key: str) -> dict:
        """The Plotly spec of the chart with key ``key``."""
        for element in self.elements:
            if element.WhichOneof("type") == "plotly_chart" and element.plotly_chart.id.endswith(f"-{key}"):
                return json.loads(element.plotly_chart.spec)
        raise LookupError(f"no chart {key!r} in this run")

    def nash_marker(self) -> list[float]:
        """The exact Nash marker on the Playground's trajectory chart."""
        trace = next(t for t in self.chart("trajectory")["data"] if t.get("name") == "Nash")
        return [trace["a"][0], trace["b"][0], trace["c"][0]]


class ProtocolSession:
    """One app session over the websocket; use as ``async with ProtocolSession(url) as s: await s.open()``."""

    def __init__(self, url: str, timeout: float = 300.0) -> None:
        self.url = url
        self.timeout = timeout
        self.page_script_hash = ""
        self.page_name = ""
        self.query_string = ""
        self._ws = None

    async def __aenter__(self) -> ProtocolSession:
        host = self.url.split("//", 1)[1].rstrip("/")
        self._ws = await websockets.connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=self.url,
            max_size=None,
            open_timeout=self.timeout,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()

    async def open(self, query_string: str = "", page_name: str = "") -> ScriptRun:
        """Load a page (by its URL path; the default page if empty), as opening the app's address does."""
        self.query_string = query_string
        self.page_name = page_name
        return await self.rerun([])

    async def close(self) -> None:
        """Close the websocket now (a tab closed mid-run): the server ends the session."""
        await self._ws.close()

    async def rerun(self, widgets: list[WidgetState]) -> ScriptRun:
        """Send the widget states of a user action; collect the elements until the script finishes.

        A run that ends early because the script asked for a rerun is followed to the run that finishes.
        """
        state = ClientState(
            query_string=self.query_string, page_script_hash=self.page_script_hash, page_name=self.page_name
        )
        state.widget_states.widgets.extend(widgets)
        message = BackMsg()
        message.rerun_script.CopyFrom(state)
        start = time.perf_counter()
        await self._ws.send(message.SerializeToString())
        run = ScriptRun(0.0)
        while True:
            received = ForwardMsg()
            received.ParseFromString(await self._receive(start))
            kind = received.WhichOneof("type")
            if kind == "new_session":
                self.page_script_hash = received.new_session.page_script_hash
            elif kind == "navigation":  # the page now shown (st.navigation): later reruns stay on it
                self.page_script_hash = received.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = received.page_info_changed.query_string
            elif kind == "delta" and received.delta.WhichOneof("type") == "new_element":
                run.elements.append(received.delta.new_element)
            elif kind == "script_finished" and received.script_finished != RERUN:
                run.seconds = time.perf_counter() - start
                return run
            elif kind == "script_finished":
                run.elements = []

    async def _receive(self, start: float) -> bytes:
        remaining = self.timeout - (time.perf_counter() - start)
        if remaining <= 0:
            raise TimeoutError(f"the server did not finish the script within {self.timeout:g} s")
        return await asyncio.wait_for(self._ws.recv(), remaining)

    async def edit_cell(self, last: ScriptRun, row: int, column: str, value: float) -> ScriptRun:
        """Type ``value`` into the Playground's matrix editor at (row, column label), as the browser reports it."""
        editor_id, _ = last.widget_id_starting("matrix-editor-")
        edits = {"edited_rows": {str(row): {column: value}}, "added_rows": [], "deleted_rows": []}
        return await self.rerun([WidgetState(id=editor_id, string_value=json.dumps(edits))])

    async def click(self, last: ScriptRun, label: str) -> ScriptRun:
        """Press the button (or form submit button) labelled ``label``."""
        buttons = [e.button for e in last.elements if e.WhichOneof("type") == "button" and e.button.label == label]
        if not buttons:
            raise LookupError(f"no button {label!r} in this run")
        return await self.rerun([WidgetState(id=buttons[0].id, trigger_value=True)])

    async def choose(self, last: ScriptRun, key: str, option: str) -> ScriptRun:
        """Pick ``option`` in the selectbox with key ``key``."""
        return await self.rerun([WidgetState(id=last.widget_id(key), string_value=option)])
