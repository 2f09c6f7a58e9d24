"""`flask trials load`: import ClinicalTrials.gov records into the store."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint

from ..notes.reanchor import reanchor_trial_notes
from . import service
from .store import find_record_files, shipped_data_dir

bp = Blueprint("trials_cli", __name__, cli_group="trials")


@bp.cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def load_command(paths: tuple[Path, ...]) -> None:
    """Load study JSON files or folders (default: the records shipped with the service)."""
    targets = list(paths) or [shipped_data_dir()]
    files = find_record_files(targets)
    with click.progressbar(length=len(files), label="Loading trials", show_pos=True,
                           hidden=len(files) < 2) as bar:
        report = service.load_records(files, on_file=lambda _path: bar.update(1))
    for where, problem in report.failed:
        click.echo(f"error: {where}: {problem}", err=True)
    for nct_id in report.changed:
        result = reanchor_trial_notes(nct_id)
        click.echo(f"{nct_id}: content changed; {result.anchored} notes re-anchored, "
                   f"{result.orphaned} orphaned, {result.unreadable} unreadable")
    click.echo(f"{len(report.added)} added, {len(report.changed)} changed, "
               f"{len(report.unchanged)} unchanged, {len(report.failed)} failed")
    if report.failed:
        raise SystemExit(1)
