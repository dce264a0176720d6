"""`flask fhir import FILE_OR_DIR` (app.fhir.inbound) and `flask clients ...` (client_cli)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

fhir = AppGroup("fhir", help="FHIR R4 import.")


def _rank(path: Path) -> tuple:
    """Files named <Type>-<id>.json in the order their references need (patients before their
    plans); Bundles (any other name) after them."""
    from app.fhir.inbound import ORDER

    kind = path.name.split("-", 1)[0]
    return (ORDER.index(kind) if kind in ORDER else len(ORDER), path.name)


@fhir.command("import")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--coordinator", help="Email of the care coordinator to assign new patients to.")
@click.option("--source", "source_system", help="Source system of the ids (default: detected).")
def import_command(target: Path, coordinator: str | None, source_system: str | None) -> None:
    """Import a FHIR Bundle or resource file, or every .json file of a directory (each file
    in its own transaction), and print what was created, updated, unchanged, skipped and ended.
    """
    from app.core.privacy import Actor, acting_as
    from app.extensions import db
    from app.fhir.inbound import (
        ImportRejected,
        ImportReport,
        default_coordinator,
        import_data,
        load_json,
    )

    member = default_coordinator(coordinator)
    if coordinator and member is None:
        raise click.BadParameter(f"no care team member {coordinator!r}", param_hint="--coordinator")
    if member is None:
        click.echo("No coordinator: imported patients are on no one's list (use --coordinator).")
    files = sorted(target.glob("*.json"), key=_rank) if target.is_dir() else [target]
    total, rejected = ImportReport(), 0
    for path in files:
        try:
            with acting_as(Actor.system()):
                report = import_data(
                    load_json(path.read_bytes()), coordinator=member, source_system=source_system
                )
            db.session.commit()
        except ImportRejected as err:
            db.session.rollback()
            rejected += 1
            click.echo(f"{path.name}: rejected ({err.status})")
            for problem in err.issues:
                click.echo(f"  {problem.get('diagnostics')}")
            continue
        total.merge(report)
        if len(files) > 1:
            made = sum(report.created.values()) + sum(report.updated.values())
            kept = sum(report.unchanged.values())
            click.echo(f"{path.name}: {made} created or updated, {kept} unchanged")
        for problem in report.problems:
            click.echo(f"  refused: {problem.get('diagnostics')}")
    click.echo(f"files: {len(files)}, rejected: {rejected}, patients: {len(total.patient_ids)}")
    for line in total.lines():
        click.echo(line)
    if rejected:
        sys.exit(1)


def register(app: Flask) -> None:
    from app.fhir.client_cli import clients

    app.cli.add_command(clients)
    app.cli.add_command(fhir)
