"""Run a coroutine to completion from sync code, whether or not an event loop is running."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` when no loop runs in this thread; otherwise a fresh loop in a worker thread.

    pyHanko's own sync wrappers call ``asyncio.run`` and fail inside a running loop (e.g. under
    an async web server or a notebook); background jobs are plain sync code. This covers both.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
