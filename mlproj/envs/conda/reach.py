"""A conda channel that does not answer, said as a person would: which channel, and why.

rattler reports it as one long chain ("error sending request for url (...); Caused by: client
error (Connect); Caused by: dns error; ..."); the last cause is the one that matters.
"""

from __future__ import annotations

import re

_URL = re.compile(r"error sending request for url \((\S+?)\)")
_SUBDIR = re.compile(r"/(noarch|linux-\w+|osx-\w+|win-\w+)/[^/]*$")
_CAUSES = (
    (re.compile(r"dns|lookup address|resolv", re.I), "DNS lookup failed"),
    (re.compile(r"connection refused", re.I), "connection refused"),
    (re.compile(r"timed? ?out", re.I), "timed out"),
    (re.compile(r"certificate|tls|ssl", re.I), "TLS/certificate error"),
    (re.compile(r"network is unreachable", re.I), "network unreachable"),
)


def unreachable(text: str) -> tuple[str, str] | None:
    """(channel URL, cause in words) when `text` says a channel could not be reached."""
    match = _URL.search(text)
    if match is None:
        return None
    channel = _SUBDIR.sub("", match.group(1))
    clauses = [c.strip(" .;") for c in re.split(r"Caused by:", text) if c.strip(" .;")]
    last = clauses[-1] if clauses else text
    for pattern, words in _CAUSES:
        if pattern.search(text):
            return channel, words
    return channel, last
