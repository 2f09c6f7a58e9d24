"""`flask trials load`: import ClinicalTrials.gov records into the store, streaming."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import click
from flask import Blueprint

from . import reader, service

bp = Blueprint("trials_cli", __name__, cli_group="trials")

# Below this a load is over before a bar would tell anything.
_BAR_BYTES = 1024 * 1024


def _printable(text: str) -> str:
    """`text` with every control and format character written as its escape (ESC as \\x1b).

    A report names where a record failed by the record's own keys and the file's name, which
    a hostile file can fill with a terminal's escape sequences (clear the screen, set the
    clipboard, hide the lines before): none reaches the operator's terminal as itself.
    """
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch
        for ch in text
    )


class _Rate:
    """Records read and the rate, for the progress bar's right-hand side."""

    def __init__(self) -> None:
        self.records = 0
        self.started = time.monotonic()

    def count(self) -> None:
        self.records += 1

    def show(self, _item: object) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return f"{self.records} records, {self.records / elapsed:,.0f}/s"


@bp.cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--batch-size",
    default=service.BATCH_SIZE,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Records written per transaction.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Processes that parse and render records while this one writes (0: none). Default: none under "
    f"{service.PARALLEL_BYTES // (1024 * 1024)} MiB, else one per core, {service.MAX_WORKERS} at most.",
)
def load_command(paths: tuple[Path, ...], batch_size: int, workers: int | None) -> None:
    """Load study files, bulk files (JSON, JSON Lines), folders or zips (default: the shipped records)."""
    files: list[Path] = []
    # A folder with no record file in it (a wrong path, a download left compressed) loaded
    # nothing and the load still reported success: a release job went on without its trials.
    empty = []
    for path in paths or (reader.shipped_data_dir(),):
        found = reader.find_record_files([path])
        if not found:
            empty.append(path)
        files.extend(found)
    size = reader.total_bytes(files)
    workers = service.default_workers(size) if workers is None else workers
    rate = _Rate()
    with click.progressbar(
        length=max(size, 1), label="Loading trials", show_eta=True, item_show_func=rate.show, hidden=size < _BAR_BYTES
    ) as bar:
        report = service.load_records(
            files, on_read=bar.update, on_record=rate.count, batch_size=batch_size, workers=workers
        )
    for path in empty:
        click.echo(
            f"error: {_printable(str(path))}: no record files (.json, .jsonl, .ndjson or .zip) in this folder", err=True
        )
    for where, problem in report.failed:
        click.echo(f"error: {_printable(where)}: {_printable(problem)}", err=True)
    if report.failed_count > len(report.failed):
        click.echo(f"error: ... and {report.failed_count - len(report.failed)} more", err=True)
    for line in report.notices:
        click.echo(_printable(line))
    click.echo(
        f"{report.added} added, {len(report.changed)} changed, "
        f"{report.unchanged} unchanged, {report.failed_count} failed"
    )
    if report.failed_count or empty:
        raise SystemExit(1)
