"""Real Streamlit servers for the benchmarks and the tests: a free port, the command that
`make run` runs, and a wait on the health check.

One copy of what every benchmark and server test needs, so they all start the server the
same way (loopback only, headless, no usage statistics).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def streamlit_argv(script: str | Path, port: int) -> list[str]:
    """`streamlit run SCRIPT` on 127.0.0.1:`port`, headless, without usage statistics."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]


def wait_healthy(
    base: str, proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 120.0
) -> None:
    """Poll `base`'s health check until it answers 200; RuntimeError if the process died
    or the time ran out (a bounded wait on a condition, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server at {base} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server at {base} did not answer in {timeout:.0f} s")
