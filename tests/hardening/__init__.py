"""Hostile input, anonymous callers and crafted files: the portal must never break."""
