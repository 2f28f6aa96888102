"""A real SMTP server (aiosmtpd) that keeps a log of every message it accepted.

    python -m bench.scale.smtpsink --port 2600 --log sink.jsonl [--delay 0.2]

One JSON line per accepted message, written and flushed *before* the server answers 250, so
the log holds exactly what a mail server would have taken responsibility for: a client killed
while waiting for the answer may still see its message logged (as with any real MTA). The
`--delay` makes each message take a little while, as a real server over a network does, so
that a job worker killed during the load is likely to be caught in the middle of a send.
Stopping the process (SIGTERM) closes the port: clients get "connection refused".
"""
from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import signal
import time
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, log: Path, delay: float) -> None:
        self.out = log.open("a", encoding="utf-8")
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.out.write(json.dumps({
            "t": time.time(),
            "message_id": str(message.get("Message-ID", "")),
            "kind": str(message.get("X-Statrequest-Kind", "")),
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", ""))[:200],
        }, ensure_ascii=False) + "\n")
        self.out.flush()
        return "250 Message accepted for delivery"


async def serve(port: int, log: Path, delay: float) -> None:
    loop = asyncio.get_running_loop()
    handler = Sink(log, delay)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.scale.test", ident="scale-sink"),
        host="127.0.0.1", port=port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY smtp://127.0.0.1:{port}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()
    handler.out.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.log, args.delay))


if __name__ == "__main__":
    main()
