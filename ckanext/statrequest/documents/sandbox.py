"""Verify an untrusted PDF in a child process with CPU, memory and wall-clock limits.

The child comes from a multiprocessing *forkserver*: a small process started once (per web
process) that has already imported pyHanko and this package, and forks a fresh child for every
check. A fork of that warm process costs milliseconds, whereas a new interpreter would pay the
imports every time; and because the server is not the web process, no web-server threads, locks
or database connections are copied into the child.

The child limits itself before reading the file: ``RLIMIT_CPU`` (killed by the kernel), an
address-space limit (``RLIMIT_AS``, what it starts with plus the budget; running out raises
MemoryError), and an alarm slightly after the wall-clock limit in case the parent is gone. The
parent waits at most the wall-clock limit, then kills the child. Any of these ends in
``too_complex`` with a reason code: ``cpu``, ``memory``, ``timeout`` or ``crashed``.

No CKAN import here: the caller passes the budget and the trust roots.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from asn1crypto import x509 as asn1_x509

from .pdfbudget import Budget
from .verify import RevocationCheck, Verdict, verify_pdf

log = logging.getLogger(__name__)

# _warmup checks a signed sample once in the server, so that children start warm
_PRELOAD = ["ckanext.statrequest.documents.sandbox", "ckanext.statrequest.documents._warmup"]
_lock = threading.Lock()
_context: Any = None


def _python() -> str:
    """The interpreter for the fork server. Under an embedding server (uWSGI, mod_wsgi)
    ``sys.executable`` is the server binary, not Python."""
    exe = sys.executable or ""
    if os.path.basename(exe).startswith("python"):
        return exe
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        candidate = os.path.join(sys.prefix, "bin", name)
        if os.path.exists(candidate):
            return candidate
    return exe


def _mp() -> Any:
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_executable(_python())
            # '__main__' too: otherwise every child re-imports the main script of the web
            # process (the ckan or gunicorn command), which costs far more than the check.
            ctx.set_forkserver_preload(["__main__", *_PRELOAD])
            _context = ctx
    return _context


def warm_up() -> None:
    """Start the fork server now (it otherwise starts with the first check, ~1 s)."""
    from multiprocessing import forkserver

    _mp()
    forkserver.ensure_running()


def _limit_self(budget: Budget) -> None:
    """In the child: limits that only this process gets."""
    if budget.cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (budget.cpu_seconds, budget.cpu_seconds + 1))
    if budget.memory_mb > 0:
        with open("/proc/self/statm") as statm:  # current address space, in pages
            current = int(statm.read().split()[0]) * resource.getpagesize()
        limit = current + budget.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if budget.wall_seconds > 0:  # the parent kills it first; this covers a parent gone away
        signal.alarm(math.ceil(budget.wall_seconds) + 2)


def _child(conn: Connection, pdf_bytes: bytes, roots_der: list[bytes], budget: Budget,
           revocation: RevocationCheck | None = None) -> None:
    """Entry point of the child process: one verdict (or a reason code) sent back."""
    try:
        _limit_self(budget)
        roots = [asn1_x509.Certificate.load(der) for der in roots_der]
        verdict = verify_pdf(pdf_bytes, roots, revocation, budget=budget)
        conn.send(("verdict", verdict))
    except MemoryError:
        # if even this fails the parent sees the pipe close ("crashed")
        with contextlib.suppress(Exception):
            conn.send(("too_complex", "memory"))
    except Exception:  # noqa: BLE001 - never a traceback for the web worker to handle
        log.exception("verification child failed")
        conn.send(("too_complex", "crashed"))
    finally:
        conn.close()


def _reason(exitcode: int | None) -> str:
    """Why a child ended without an answer (a negative exit code is the killing signal)."""
    return {-signal.SIGXCPU: "cpu", -signal.SIGKILL: "killed",
            -signal.SIGALRM: "timeout"}.get(exitcode or 0, "crashed")


def verify_pdf_isolated(pdf_bytes: bytes, trust_roots: Sequence[asn1_x509.Certificate],
                        budget: Budget, revocation: RevocationCheck | None = None) -> Verdict:
    """:func:`.verify.verify_pdf` with ``budget``, in a child process; never blocks longer than
    ``budget.wall_seconds`` (plus the moments to start and stop the child)."""
    sha = hashlib.sha256(pdf_bytes).hexdigest()
    started = time.monotonic()
    ctx = _mp()
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, daemon=True, name="statrequest-verify",
                        args=(sender, pdf_bytes, [c.dump() for c in trust_roots], budget,
                              revocation))
    outcome: tuple[str, Any] | None = None
    try:
        try:
            child.start()
        except Exception:  # noqa: BLE001 - no process left (limits of the host): no verdict
            log.exception("could not start the verification process")
            sender.close()
            return Verdict("too_complex", ("unavailable",), sha)
        sender.close()
        wait = max(0.0, budget.wall_seconds - (time.monotonic() - started)) \
            if budget.wall_seconds > 0 else None
        reason = "timeout"
        try:
            if receiver.poll(wait):
                outcome = receiver.recv()
        except (EOFError, OSError):  # the child died: CPU limit, killed, crashed
            child.join(1)
            reason = _reason(child.exitcode)
        if outcome is None:
            log.info("verification stopped (%s) after %.1f s, sha256 %s", reason,
                     time.monotonic() - started, sha)
            return Verdict("too_complex", (reason,), sha)
    finally:
        receiver.close()
        if child.pid is not None:  # started
            if child.is_alive():
                child.kill()
            child.join(1)
    kind, payload = outcome
    if kind == "verdict" and isinstance(payload, Verdict):
        return payload
    return Verdict("too_complex", (str(payload),), sha)
