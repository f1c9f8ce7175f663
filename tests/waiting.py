"""Waiting in tests: for a condition, never for a fixed time.

A fixed sleep is either too short on a busy machine (a flaky test) or longer than
needed everywhere (a slow one); polling a condition is neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable

POLL = 0.05  # seconds between two looks at the condition


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> bool:
    """Look at `condition` until it holds or `timeout` seconds have passed; whether it
    held (so a test asserts it, with its own message)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(POLL)
    return True
