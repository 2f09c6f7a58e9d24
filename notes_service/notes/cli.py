"""`flask keys rotate` and `flask keys check`: they move and check KEK layers, and never open a note."""

from __future__ import annotations

import click
from flask import Blueprint

from .. import keys, registry
from ..extensions import db

bp = Blueprint("keys_cli", __name__, cli_group="keys")


def _require_slots_table() -> None:
    # An unmigrated database (a new host, a restore into an empty database) was a traceback of
    # "no such table: key_slots", after rotate had printed its key check as ok.
    if not keys.slots_table_exists():
        raise click.ClickException("the database has no key slots yet: run `flask db upgrade` first")


@bp.cli.command("rotate")
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Key slots re-wrapped per transaction.",
)
def rotate_command(batch_size: int) -> None:
    """Re-wrap every key slot's KEK layer under the newest key (no token needed; notes are not touched)."""
    _require_slots_table()
    ring = registry.keyring()
    # Start-up already checked the keys; this makes sure the newest one has its stored check
    # before any slot is wrapped under it, and refuses if its bytes changed since.
    problem = keys.key_problem(ring)
    db.session.commit()
    if problem:
        raise click.ClickException(f"{problem}; nothing re-wrapped")
    click.echo(f"key check {ring.newest_id}: ok")
    pending = keys.slots_to_rotate(ring)
    with click.progressbar(
        length=pending, label=f"Re-wrapping under {ring.newest_id}", show_pos=True, hidden=pending < 1000
    ) as bar:
        rotation = keys.rotate_slots(batch_size, on_batch=bar.update)
    click.echo(f"re-wrapped {rotation.rotated} key slots under {ring.newest_id}")
    if rotation.gone:
        click.echo(f"{rotation.gone} key slots were deleted while the rotation ran (nothing to re-wrap)")
    for slot_id, kek_id in rotation.unopenable.items():
        click.echo(f"key slot {slot_id}: its {kek_id} layer does not open (damaged?); left under {kek_id}", err=True)
    if rotation.changed:
        click.echo(
            f"{len(rotation.changed)} key slots were rewritten by a request while the rotation ran and are "
            "still under an older key; left as the request wrote them, for the next run",
            err=True,
        )
    # Every slot still under an older key, whatever kept it there (also one written meanwhile).
    left = {kek_id: count for kek_id, count in keys.kek_usage().items() if kek_id != ring.newest_id}
    db.session.commit()
    if left:
        raise click.ClickException(_still_under_older_keys(left, rotation))


def _still_under_older_keys(left: dict[str, int], rotation: keys.Rotation) -> str:
    """Which key slots stay under which older key, by slot id only, and what to do."""
    parts = []
    for kek_id, count in sorted(left.items()):
        damaged = sorted(slot_id for slot_id, kek in rotation.unopenable.items() if kek == kek_id)
        changed = sorted(slot_id for slot_id, kek in rotation.changed.items() if kek == kek_id)
        part = f"{kek_id} still protects {count} key slots"
        if damaged:
            part += f" (not opening: {', '.join(damaged)})"
        if changed:
            part += f" (rewritten meanwhile: {', '.join(changed)})"
        parts.append(part)
    advice = "run `flask keys rotate` again"
    if rotation.unopenable:
        advice = "slots that do not open stay under their key until deleted; " + advice + " for the others"
    return (
        "not every key slot is under the newest key: "
        + "; ".join(parts)
        + f"; {advice}, and do not retire an older key while it protects any"
    )


@bp.cli.command("check")
def check_command() -> None:
    """Report what each key protects and its key check; fail if a key is missing or not the data's."""
    _require_slots_table()
    ring = registry.keyring()
    usage = keys.kek_usage()
    wrong = set(keys.mismatched_keks(ring))
    db.session.commit()
    for kek_id in ring.ids:
        role = "newest" if kek_id == ring.newest_id else "older"
        state = "KEY CHECK FAILED (other key bytes than the data's)" if kek_id in wrong else "key check ok"
        click.echo(
            f"{kek_id}: configured ({role}), protects {usage.get(kek_id, 0)} key slots, {state}", err=kek_id in wrong
        )
    missing = [kek_id for kek_id in usage if not ring.has(kek_id)]
    for kek_id in missing:
        click.echo(f"{kek_id}: NOT CONFIGURED, protects {usage[kek_id]} key slots", err=True)
    old = sum(count for kek_id, count in usage.items() if kek_id != ring.newest_id)
    if old:
        click.echo(f"{old} key slots are not under the newest key: run `flask keys rotate`")
    if missing or wrong:
        raise SystemExit(1)
