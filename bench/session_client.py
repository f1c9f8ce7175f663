"""A browser-less Streamlit client: one websocket session that runs a page to its end.

It speaks the protocol the browser speaks (Streamlit's own protobuf messages over
`/_stcore/stream`): it opens a session, asks for one script run of a page and URL query,
and collects every message until the run finishes. Light enough that thirty of them on
the same two cores leave the server the CPU it needs, which thirty Chromiums would not;
and it reads the text of what was drawn, so a test can check what another process shows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class SessionRun:
    """What one session saw: seconds to the end of its run, bytes received, the texts."""

    seconds: float = 0.0
    received_bytes: int = 0
    messages: int = 0
    finished: bool = False
    exception: str | None = None
    texts: list[str] = field(default_factory=list)


def _texts_of(msg: ForwardMsg) -> list[str]:
    """The human-readable strings a delta draws (markdown, headings, metric labels/values)."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return []
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    if kind == "markdown":
        return [element.markdown.body]
    if kind == "heading":
        return [element.heading.body]
    if kind == "metric":
        return [element.metric.label, element.metric.body]
    if kind == "alert":
        return [element.alert.body]
    if kind == "exception":
        return [f"EXCEPTION {element.exception.type}: {element.exception.message}"]
    return []


async def run_session(
    base_url: str, *, page: str = "", query: str = "", timeout: float = 120.0
) -> SessionRun:
    """Open one session on `base_url`, run `page` (url path, "" = the default page) with
    the URL `query`, and return what it saw. Never raises for a server fault: the
    result says what went wrong (`finished` False, `exception` set)."""
    parts = urlsplit(base_url)
    ws_url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
    run = SessionRun()
    start = time.perf_counter()
    back = BackMsg()
    back.rerun_script.query_string = query
    back.rerun_script.page_name = page
    back.rerun_script.context_info.timezone = "Europe/Madrid"
    back.rerun_script.context_info.locale = "es-ES"
    back.rerun_script.context_info.url = f"{base_url.rstrip('/')}/{page}" + (
        f"?{query}" if query else ""
    )
    try:
        async with asyncio.timeout(timeout):
            async with websockets.connect(
                ws_url,
                subprotocols=[websockets.Subprotocol("streamlit")],
                max_size=None,
                origin=websockets.Origin(f"http://{parts.netloc}"),
            ) as ws:
                await ws.send(back.SerializeToString())
                async for raw in ws:
                    data = raw if isinstance(raw, bytes) else raw.encode()
                    run.received_bytes += len(data)
                    run.messages += 1
                    msg = ForwardMsg()
                    msg.ParseFromString(data)
                    run.texts.extend(_texts_of(msg))
                    if msg.WhichOneof("type") == "script_finished":
                        status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                        if status in ("FINISHED_SUCCESSFULLY", "FINISHED_EARLY_FOR_RERUN"):
                            if status == "FINISHED_SUCCESSFULLY":
                                run.finished = True
                                break
                        else:
                            run.exception = status
                            break
    except (TimeoutError, OSError, websockets.WebSocketException) as exc:
        run.exception = f"{type(exc).__name__}: {exc}"
    run.seconds = time.perf_counter() - start
    return run


async def run_sessions(
    base_url: str, count: int, *, page: str = "", query: str = "", timeout: float = 120.0
) -> list[SessionRun]:
    """`count` sessions opened at the same moment; each one's result."""
    return list(
        await asyncio.gather(
            *(run_session(base_url, page=page, query=query, timeout=timeout) for _ in range(count))
        )
    )
