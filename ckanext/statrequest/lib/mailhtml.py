"""The HTML part of our emails, made from their plain-text body when they are sent.

The outbox keeps one rendered text per email, so a retry sends the same bytes; the HTML
alternative is derived from that text the same way every time: paragraphs stay paragraphs,
line breaks stay, web addresses (the tracking link) become links, and the closing lines after
"--" are set apart. The HTML says nothing the text does not.
"""
from __future__ import annotations

import html
import re

_URL = re.compile(r"https?://[^\s<>\"']+")
_PARAGRAPH = re.compile(r"\n\s*\n")
_BODY_STYLE = "font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a"
_FOOTER_STYLE = "color:#555555;font-size:13px"


def _line(text: str) -> str:
    """One line, escaped, with its web addresses as links."""
    parts, start = [], 0
    for match in _URL.finditer(text):
        url = match.group(0)
        parts.append(html.escape(text[start:match.start()]))
        parts.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        start = match.end()
    parts.append(html.escape(text[start:]))
    return "".join(parts)


def to_html(text: str, language: str, subject: str) -> str:
    """An HTML document with the content of the plain-text body `text`."""
    blocks: list[str] = []
    for paragraph in _PARAGRAPH.split(text.strip()):
        lines = [line.rstrip() for line in paragraph.strip("\n").splitlines()]
        style = ""
        if lines and lines[0].strip() == "--":  # the signature: below a rule, smaller
            blocks.append("<hr>")
            lines, style = lines[1:], f' style="{_FOOTER_STYLE}"'
        if lines:
            blocks.append(f"<p{style}>" + "<br>\n".join(_line(line) for line in lines) + "</p>")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n"
        f'<body style="{_BODY_STYLE}">\n' + "\n".join(blocks) + "\n</body></html>\n"
    )
