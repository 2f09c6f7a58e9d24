"""Share tokens masked out of log lines: one function and a logging.Filter, used by every log we produce.

A share link's token is the whole secret of the link but for the passcode, so no log line may
carry one. The router accepts many spellings of a share path (doubled slashes, a percent-
encoding of any character in either case, encoded slashes, an absolute URL, a query string
or fragment after it), and an access log shows what the client sent. So the masking decodes
each path-like word of a line before it looks for a share path, and masks everything after
the share prefix. The flask development server's log (werkzeug) and gunicorn's access and
error logs (gunicorn.conf.py) both go through here.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

MASK = "****"
# A word of a log line: a request target, a URL, a path. Quotes, brackets and white space end it,
# and so does ESC, which starts the development server's colour codes.
_WORD = re.compile(r"[^\s\"'<>()\[\]\x1b]+")
# The share prefixes as the router takes them once decoded: any run of slashes between the parts.
_SHARE_PREFIX = re.compile(r"/+(?:s|api/+v1/+shared)/+(?=[^/])", re.IGNORECASE)
# Decoding stops after a few rounds: more than the router's one, so doubly encoded spellings are
# masked too, and bounded, so a word of %25%25%25... costs nothing.
_DECODE_ROUNDS = 3
_FORMATTER = logging.Formatter()
# What stays readable when a decoded path is written back: RFC 3986's path characters. The rest
# (white space, line breaks, quotes) is re-encoded, so a decoded %0A cannot forge a log line.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def mask(text: str) -> str:
    """`text` with every share token masked (/s/<token> -> /s/****) and the query of every URL dropped.

    A decoded path (a WSGI PATH_INFO) must be given percent-encoded again (`quote_path`), so that
    the white space it may hold does not split it into words.
    """
    return _WORD.sub(_mask_word, text)


def quote_path(path_info: str) -> str:
    """A WSGI PATH_INFO (decoded, one latin-1 character per byte) percent-encoded again for a log line."""
    return quote(path_info.encode("latin-1", errors="replace"), safe=_PATH_SAFE)


def _mask_word(match: re.Match[str]) -> str:
    word = match.group()
    if "/" not in word and "%" not in word:
        return word
    decoded = word
    for _ in range(_DECODE_ROUNDS):
        once = unquote(decoded, errors="replace")
        if once == decoded:
            break
        decoded = once
    share = _SHARE_PREFIX.search(decoded)
    if share is not None:
        return quote(decoded[: share.end()], safe=_PATH_SAFE) + MASK
    if word.startswith("/") or "://" in word:
        # A query string or fragment may hold anything a client typed: never logged.
        return re.split(r"[?#]", word, maxsplit=1)[0]
    return word


class MaskSecrets(logging.Filter):
    """Masks share tokens in every record it sees, whatever the format; attach to loggers and handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: the traceback's messages are masked too.
            record.exc_text = mask(_FORMATTER.formatException(record.exc_info))
        return True


def install(*targets: logging.Logger | logging.Handler) -> None:
    """Put one MaskSecrets on each logger or handler that lacks one."""
    for target in targets:
        if not any(isinstance(f, MaskSecrets) for f in target.filters):
            target.addFilter(MaskSecrets())
