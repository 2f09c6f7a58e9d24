"""The /link page: where a link code's QR code leads; the widget on it redeems the code."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("device_pages", __name__)


@bp.get("/link")
def link_page() -> str:
    """A page that loads the widget to redeem the code in its URL's fragment (never sent to us)."""
    return render_template("link.html")
