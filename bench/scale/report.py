"""Numbers of a scale run from the load generator's log of every HTTP call (samples.csv).

Phases: `warmup` (excluded), `quiet` (from the end of the warm-up to the first fault),
`faults` (from the first fault to the end of the last one plus a grace period for recovery)
and `after` (the rest of the load). Per page and phase: calls, calls/s, p50/p95/p99 and the
error rate; plus the sustained rates of submissions and inbox reads and the goal ratio of the
inbox page's p95 to CKAN's own dataset page's p95.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

SUBMIT = "submit (API, 3 files)"
INBOX = ("inbox page", "inbox (API)")
GOAL_PAIRS = [("inbox page", "dataset page (CKAN)"), ("inbox (API)", "package_show (CKAN API)")]


def load_samples(path: Path) -> list[tuple[float, str, float, bool, str, str]]:
    out = []
    if not path.exists():
        return out
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) < 6:
                continue
            try:
                out.append((float(row[0]), row[1], float(row[2]), row[3] == "1", row[4], row[5]))
            except ValueError:
                continue
    return sorted(out)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def phases(t0: float, end: float, warmup: float, faults: list[dict[str, Any]], grace: float
           ) -> dict[str, tuple[float, float]]:
    start = t0 + warmup
    done = [f for f in faults if not f.get("error")]
    if not done:
        return {"quiet": (start, end)}
    first = min(f["start"] for f in done)
    last = max(f["end"] for f in done) + grace
    out = {"quiet": (start, max(start, first)), "faults": (first, min(last, end))}
    if last < end:
        out["after"] = (last, end)
    out["all"] = (start, end)
    return out


def stats(samples: list[tuple[float, str, float, bool, str, str]], window: tuple[float, float]
          ) -> dict[str, Any]:
    lo, hi = window
    seconds = max(hi - lo, 1e-9)
    by_name: dict[str, list[tuple[float, bool, str]]] = defaultdict(list)
    for t, name, ms, ok, status, error in samples:
        if lo <= t < hi:
            by_name[name].append((ms, ok, status or error))
    pages = {}
    total = failed = 0
    for name, rows in sorted(by_name.items()):
        ms = [r[0] for r in rows if r[1]]
        errors = [r[2] for r in rows if not r[1]]
        total += len(rows)
        failed += len(errors)
        kinds: dict[str, int] = defaultdict(int)
        for e in errors:
            kinds[e or "?"] += 1
        pages[name] = {
            "calls": len(rows), "per_s": round(len(rows) / seconds, 3),
            "ok_per_s": round(len(ms) / seconds, 3),
            "p50": round(percentile(ms, 0.5), 1), "p95": round(percentile(ms, 0.95), 1),
            "p99": round(percentile(ms, 0.99), 1), "errors": len(errors),
            "error_rate": round(len(errors) / len(rows), 4) if rows else 0.0,
            "error_kinds": dict(kinds),
        }
    submit = pages.get(SUBMIT, {})
    inbox_ok = sum(pages.get(n, {}).get("calls", 0) - pages.get(n, {}).get("errors", 0)
                   for n in INBOX)
    goals = {}
    for page, base in GOAL_PAIRS:
        if page in pages and base in pages and pages[base]["p95"] > 0:
            goals[f"{page} p95 / {base} p95"] = round(pages[page]["p95"] / pages[base]["p95"], 2)
    return {"seconds": round(seconds, 1), "calls": total, "errors": failed,
            "error_rate": round(failed / total, 4) if total else 0.0,
            "submissions_per_s": round(submit.get("ok_per_s", 0.0), 3),
            "inbox_reads_per_s": round(inbox_ok / seconds, 3),
            "goals": goals, "pages": pages}


def fault_windows(samples: list[tuple[float, str, float, bool, str, str]],
                  faults: list[dict[str, Any]], grace: float) -> list[dict[str, Any]]:
    """Calls that ended while each fault lasted (plus the grace period, cut at the next)."""
    out = []
    starts = sorted(f["start"] for f in faults)
    for f in faults:
        later = [s for s in starts if s > f["start"]]
        window = (f["start"], min([f["end"] + grace, *later]))
        rows = [s for s in samples if window[0] <= s[0] + s[2] / 1000 < window[1]]
        bad = [s for s in rows if not s[3]]
        names: dict[str, int] = defaultdict(int)
        for s in bad:
            names[f"{s[1]} [{s[4] or s[5]}]"] += 1
        out.append({"fault": f["fault"], "arg": f.get("arg"),
                    "seconds": round(f["end"] - f["start"], 1), "calls": len(rows),
                    "errors": len(bad),
                    "error_rate": round(len(bad) / len(rows), 4) if rows else 0.0,
                    "failed_calls": dict(names), "detail": f.get("detail"),
                    "error": f.get("error")})
    return out


def table(st: dict[str, Any]) -> list[str]:
    head = f"{'page':<38}{'calls':>7}{'/s':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'errors':>8}"
    lines = [head, "-" * len(head)]
    for name, p in st["pages"].items():
        lines.append(f"{name[:38]:<38}{p['calls']:>7}{p['per_s']:>7.2f}{p['p50']:>8.0f}"
                     f"{p['p95']:>8.0f}{p['p99']:>8.0f}{p['errors']:>8}")
    return lines


def render(result: dict[str, Any]) -> str:
    """The human-readable report (markdown)."""
    r = result
    out = [f"# Scale run `{r['profile']}` ({r['started']})", ""]
    out += [f"- prelude (requests moved through the real actions before the load): "
            f"{r.get('prelude')}" if r.get("prelude") else "- no prelude",
            f"- stack: gunicorn × {r['stack']['web_workers']} web processes, "
            f"{r['stack']['job_workers']} RQ workers, PostgreSQL (db {r['stack']['db']}), "
            "own Redis, Solr and SMTP server",
            f"- seeded: {r['seed'].get('requests', 0):,} historical requests "
            f"({r['seed'].get('events', 0):,} events) in {r['seed'].get('total_seconds', '?')} s",
            f"- load: {r['load']['users']} Locust users for {r['load']['duration']} s "
            f"(warm-up {r['load']['warmup']} s excluded); machine: {r['machine']}", ""]
    for phase in ("quiet", "faults", "after", "all"):
        st = r["phases"].get(phase)
        if not st:
            continue
        out += [f"## {phase} ({st['seconds']} s): {st['calls']} calls, error rate "
                f"{100 * st['error_rate']:.2f} %, submissions {st['submissions_per_s']}/s, "
                f"inbox reads {st['inbox_reads_per_s']}/s", "", "```", *table(st), "```", ""]
        if st["goals"]:
            out += [f"- {k}: **{v}** (goal < 3)" for k, v in st["goals"].items()] + [""]
    out += ["## Faults", ""]
    for f in r["fault_windows"]:
        out.append(f"- **{f['fault']}** ({f['seconds']} s): {f['calls']} calls, {f['errors']} "
                   f"errors ({100 * f['error_rate']:.1f} %) {f['detail']}"
                   + (f" ERROR {f['error']}" if f.get("error") else ""))
        for name, n in sorted(f["failed_calls"].items()):
            out.append(f"  - {n} × {name}")
    out += ["", "## Recovery (cron and drain)", ""]
    for line in r.get("recovery", []):
        out.append(f"- {line}")
    out += ["", "## CPU seconds by component during the load", ""]
    for name, seconds in sorted(r.get("cpu", {}).items(), key=lambda kv: -kv[1]):
        out.append(f"- {name}: {seconds:.0f}")
    out += ["", "## Invariants", "", "```", *r["checker"].get("lines", []),
            "INVARIANTS " + ("HOLD" if r["checker"].get("ok") else "VIOLATED"), "```", ""]
    if r.get("cross_node"):  # --nodes 2 (bench/scale/nodes.py)
        out += ["## Two nodes", "", f"- nodes and object store: {r.get('nodes')}",
                f"- cross-node check ({'PASS' if r['cross_node'].get('ok') else 'FAIL'}): "
                f"{r['cross_node']}", ""]
    return "\n".join(out)
