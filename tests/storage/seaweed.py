"""Shared by the object-storage tests: where the SeaweedFS binary and its script are, its test
credentials, and a free block of ports for one server."""
from __future__ import annotations

import random
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "dev" / "seaweedfs.sh"
WEED = ROOT / ".run" / "bin" / "weed"
ACCESS_KEY, SECRET_KEY = "statrequest", "statrequest-secret"  # dev/seaweedfs.sh


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def base_port() -> int:
    """Ports base..base+3 and their gRPC ports (+10000), below the ephemeral range (a stopped
    and restarted store must find its ports still free), all free now."""
    for _ in range(200):
        base = random.randrange(12000, 22700, 4)
        if all(_free(base + i) and _free(base + 10000 + i) for i in range(4)):
            return base
    raise RuntimeError("no free port range for SeaweedFS")
