"""Notebook tokens: issue, and resolve an `Authorization: Bearer` header to its notebook."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from ..crypto import hash_token, tokens_match
from ..errors import Unauthorized
from ..extensions import db
from .models import Notebook

MAX_TOKEN_CHARS = 128


def bearer_token() -> str | None:
    """The bearer token of the request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def notebook_for_token(token: str | None) -> Notebook:
    """The live notebook whose token this is, or Unauthorized."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("Send your notebook token as `Authorization: Bearer <token>`.")
    digest = hash_token(token)
    notebook = db.session.scalar(select(Notebook).where(Notebook.token_hash == digest))
    # The lookup is by hash; the constant-time comparison keeps the check itself timing-safe.
    if notebook is None or notebook.wrapped_dek is None or not tokens_match(token, notebook.token_hash):
        raise Unauthorized("This notebook token is not valid (it may have been deleted).")
    return notebook


def current_notebook() -> Notebook:
    """The notebook of the request's bearer token, or Unauthorized."""
    return notebook_for_token(bearer_token())
