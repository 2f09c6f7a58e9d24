"""`flask keys rotate` and `flask keys check`."""

from __future__ import annotations

import click
from flask import Blueprint
from sqlalchemy import func, select

from .. import registry
from ..extensions import db
from ..keys import key_problem
from . import service
from .models import Notebook

bp = Blueprint("keys_cli", __name__, cli_group="keys")


@bp.cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True, help="Data keys re-wrapped per transaction.")
def rotate_command(batch_size: int) -> None:
    """Re-wrap every notebook's data key under the newest key (notes are not touched)."""
    ring = registry.keyring()
    # Start-up already checked the keys; this makes sure the newest one has its stored check
    # before any data key is wrapped under it, and refuses if its bytes changed since.
    problem = key_problem(ring)
    db.session.commit()
    if problem:
        raise click.ClickException(f"{problem}; nothing re-wrapped")
    click.echo(f"key check {ring.newest_id}: ok")
    pending = db.session.execute(
        select(func.count()).select_from(Notebook)
        .where(Notebook.kek_id.is_not(None), Notebook.kek_id != ring.newest_id)
    ).scalar_one()
    with click.progressbar(length=pending, label=f"Re-wrapping under {ring.newest_id}", show_pos=True,
                           hidden=pending < 1000) as bar:
        rotated = service.rotate_data_keys(batch_size, on_batch=bar.update)
    click.echo(f"re-wrapped {rotated} data keys under {ring.newest_id}")


@bp.cli.command("check")
def check_command() -> None:
    """Report what each key protects and its key check; fail if a key is missing or not the data's."""
    ring = registry.keyring()
    usage = service.kek_usage()
    wrong = set(service.mismatched_keks(ring))
    db.session.commit()
    for kek_id in ring.ids:
        role = "newest" if kek_id == ring.newest_id else "older"
        state = "KEY CHECK FAILED (other key bytes than the data's)" if kek_id in wrong else "key check ok"
        click.echo(f"{kek_id}: configured ({role}), protects {usage.get(kek_id, 0)} notebook keys, {state}",
                   err=kek_id in wrong)
    missing = [kek_id for kek_id in usage if not ring.has(kek_id)]
    for kek_id in missing:
        click.echo(f"{kek_id}: NOT CONFIGURED, protects {usage[kek_id]} notebook keys", err=True)
    old = sum(count for kek_id, count in usage.items() if kek_id != ring.newest_id)
    if old:
        click.echo(f"{old} notebook keys are not under the newest key: run `flask keys rotate`")
    if missing or wrong:
        raise SystemExit(1)
