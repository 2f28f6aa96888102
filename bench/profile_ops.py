"""Where one bench operation spends its time: SQL statements and their time, and cProfile.

Run after bench/run.py has seeded the database (it reuses run.py's app, users and calls):

    .venv/bin/python bench/profile_ops.py inbox search show package_show --rounds 50

For each operation: p50 in ms, statements per call and their share of the time (measured
with SQLAlchemy's cursor events), then the top functions of cProfile by cumulative time
(`--top`, default 25; `--no-profile` skips it).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402 - bench/run.py, next to this file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ops", nargs="+", help="operations of run.read_operations")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    parser.add_argument("--statements", action="store_true", help="print each call's SQL")
    args = parser.parse_args()
    run.use_port_variables()
    app = run.load_app()
    with app._wsgi_app.test_request_context():
        import ckan.model as model
        from sqlalchemy import event, text

        people = run.setup()
        ids = [r[0] for r in model.Session.execute(text(
            "SELECT id FROM statrequest_request ORDER BY random() LIMIT :n"),
            {"n": args.rounds * 2 + 10})]
        model.Session.remove()
        random.shuffle(ids)
        ops = run.read_operations(people, ids)
        engine = model.Session.get_bind()
        sql: dict[str, Any] = {"n": 0, "s": 0.0, "texts": Counter(), "ms": Counter()}

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            sql["n"] += 1
            took = time.perf_counter() - conn.info.pop("t0")
            sql["s"] += took
            key = " ".join(statement.split())[:160]
            sql["texts"][key] += 1
            sql["ms"][key] += 1000 * took

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        for name in args.ops:
            fn = ops[name]
            for i in range(5):  # warm-up
                run._clock(lambda fn=fn, i=i: fn(i))
            sql.update(n=0, s=0.0, texts=Counter(), ms=Counter())
            times = [run._clock(lambda fn=fn, i=i: fn(i)) for i in range(args.rounds)]
            p50 = statistics.median(times)
            per = sql["n"] / args.rounds
            sql_ms = 1000 * sql["s"] / args.rounds
            print(f"\n== {name}: p50 {p50:.2f} ms, mean {statistics.fmean(times):.2f} ms; "
                  f"{per:.1f} statements/call, {sql_ms:.2f} ms SQL/call (mean)")
            if args.statements:
                for stmt, ms in sql["ms"].most_common():
                    n = sql["texts"][stmt]
                    print(f"   {n / args.rounds:5.1f}× {ms / args.rounds:6.2f} ms  {stmt[:110]}")
            if args.no_profile:
                continue
            prof = cProfile.Profile()
            prof.enable()
            for i in range(args.rounds):
                run._clock(lambda fn=fn, i=i: fn(i))
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
