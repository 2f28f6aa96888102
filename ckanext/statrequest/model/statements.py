"""Statements built once per process and run again with new values.

SQLAlchemy takes 0.2–0.5 ms to build a statement and walk it for its cache key: as long as
PostgreSQL takes to answer a lookup by key. The lookups every page and list makes (the
caller's memberships and positions, the holidays, a request's files, organisations, datasets
and tasks) are therefore built once by a `@built_once` function and executed with their
values as bind parameters (#16: a request page ran 12 statements, each built anew).

A reused statement holds nothing of one caller or request: every value that differs between
runs is a `bindparam`, given to `Session.execute(statement, {...})`.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[[], Any])


def built_once(build: F) -> F:
    """The statement `build()` returns, built on the first call and the same object after
    (its SQLAlchemy cache key is then computed once)."""
    return cache(build)  # type: ignore[return-value]
