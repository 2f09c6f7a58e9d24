"""Share sessions: the signed, short-lived proof that a passcode was right.

One value for both readers of a share: the share page keeps it in a cookie scoped to the
share's path, and an API client gets it in the body of its first page and sends it back in
the body of each next one. It is itsdangerous's timestamped signature (the app's
SECRET_KEY) over the share's id alone, so it holds no secret, is bound to one share, and
expires 30 minutes after the passcode was checked, whatever the client claims. Paging with
it spends no view and no Argon2 check; it never goes in a URL.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_SECONDS = 30 * 60
# A signed share id is under 100 characters: anything much longer is not one we made.
MAX_SESSION_CHARS = 512


def _serializer() -> URLSafeTimedSerializer:
    # The salt predates the API's use: cookies issued before stay valid for their 30 minutes.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="share-page-session")


def issue_session(share_id: str) -> str:
    """A session for the share whose passcode was just right."""
    return _serializer().dumps({"s": share_id})


def session_share_id(value: Any) -> str | None:
    """The share id a session was issued for, or None when it is forged, expired or not a session."""
    if not isinstance(value, str) or not value or len(value) > MAX_SESSION_CHARS or not value.isascii():
        return None
    try:
        data = _serializer().loads(value, max_age=SESSION_SECONDS)
    except BadSignature:  # SignatureExpired included
        return None
    share_id = data.get("s") if isinstance(data, dict) else None
    return share_id if isinstance(share_id, str) else None
