"""A small round-robin TCP load balancer for the two-node scale run (asyncio, loopback only).

    python -m bench.scale.balancer --listen 8000 --backend 8001 --backend 8002 --state FILE

Each client connection goes to the next backend in turn; a backend that refuses the
connection (a killed node) is skipped, so new connections find the node that is up. A request
already handed to a node that dies is never sent again (a POST may have been half done): the
client sees its connection end, as it would behind any TCP balancer. HTTP keep-alive keeps a
client on one node for the life of its connection.

`--state` is a JSON file rewritten whenever it changes: per backend, the connections open and
the submissions with files (POST .../statrequest_create) under way, which the fault "kill
node A mid-upload" waits for; and how many connections each backend took or refused.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path

UPLOAD_MARK = b"statrequest_create"


class Balancer:
    def __init__(self, backends: list[int], state: Path | None) -> None:
        self.backends = backends
        self.state = state
        self.next = 0
        self.stats = {str(p): {"open": 0, "uploads": 0, "taken": 0, "refused": 0}
                      for p in backends}

    def save(self) -> None:
        if self.state is None:
            return
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.stats))
        os.replace(tmp, self.state)

    async def connect(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            port = self.backends[self.next % len(self.backends)]
            self.next += 1
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port), 5)
            except (OSError, asyncio.TimeoutError):
                self.stats[str(port)]["refused"] += 1
                continue
            self.stats[str(port)]["taken"] += 1
            return port, reader, writer
        return None

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
                     ) -> None:
        got = await self.connect()
        if got is None:
            self.save()
            client_w.close()
            return
        port, back_r, back_w = got
        s = self.stats[str(port)]
        s["open"] += 1
        uploading = [False]
        self.save()

        def mark(on: bool) -> None:
            if uploading[0] != on:
                uploading[0] = on
                s["uploads"] += 1 if on else -1
                self.save()

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool
                       ) -> None:
            try:
                while True:
                    chunk = await src.read(65536)
                    if not chunk:
                        break
                    if upstream and chunk.startswith(b"POST ") and UPLOAD_MARK in chunk[:200]:
                        mark(True)
                    elif not upstream and chunk.startswith(b"HTTP/"):
                        mark(False)
                    dst.write(chunk)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        try:
            await asyncio.gather(pump(client_r, back_w, True), pump(back_r, client_w, False))
        finally:
            mark(False)
            s["open"] -= 1
            self.save()


async def serve(listen: int, backends: list[int], state: Path | None) -> None:
    balancer = Balancer(backends, state)
    balancer.save()
    server = await asyncio.start_server(balancer.handle, "127.0.0.1", listen, backlog=512)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--backend", type=int, action="append", required=True)
    parser.add_argument("--state", type=Path)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, args.backend, args.state))


if __name__ == "__main__":
    main()
