"""`flask translate ...`: keep the catalogs complete. Domain commands register themselves."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
BABEL_CFG = ROOT / "babel.cfg"

translate = AppGroup("translate", help="Extract, update, compile and check translations.")


def pybabel(*args: str) -> None:
    cmd = [sys.executable, "-m", "babel.messages.frontend", "-q", *args]
    subprocess.run(cmd, check=True, cwd=ROOT)  # noqa: S603 - fixed argv, no shell


def extract(pot: Path) -> None:
    pybabel(
        "extract",
        "-F",
        str(BABEL_CFG),
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-k",
        "lazy_pgettext:1c,2",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(pot),
        "app",
    )


def catalog_problems(po_path: Path, pot_path: Path | None = None) -> list[str]:
    """What makes a catalog incomplete: missing, untranslated or fuzzy strings."""
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        label = message.id if isinstance(message.id, str) else message.id[0]
        if message.fuzzy:
            problems.append(f"fuzzy: {label!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {label!r}")
    if pot_path is not None:
        with pot_path.open("rb") as fh:
            template = read_po(fh)
        for message in template:
            if message.id and catalog.get(message.id, context=message.context) is None:
                label = message.id if isinstance(message.id, str) else message.id[0]
                problems.append(f"missing from catalog: {label!r}")
    return problems


@translate.command("init")
@click.argument("lang")
def init(lang: str) -> None:
    """Start a catalog for a new language."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        pybabel("init", "-i", str(pot), "-d", str(TRANSLATIONS), "-l", lang)


@translate.command("update")
def update() -> None:
    """Extract strings from the code and merge them into every catalog."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        pybabel(
            "update",
            "-i",
            str(pot),
            "-d",
            str(TRANSLATIONS),
            "--no-fuzzy-matching",
            "--ignore-obsolete",
            "--width",
            "100",
        )
    fill_source_catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po")


def fill_source_catalog(po_path: Path) -> None:
    """English is the source language: its catalog says each string as written."""
    from babel.messages.pofile import read_po, write_po

    if not po_path.exists():
        return
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(message.id[min(i, 1)] for i in range(catalog.num_plurals))
        else:
            message.string = message.id
        message.flags.discard("fuzzy")
    with po_path.open("wb") as fh:
        write_po(fh, catalog, width=100)


@translate.command("compile")
def compile_() -> None:
    """Compile catalogs to .mo files (done by `make demo` and `make test`)."""
    pybabel("compile", "-d", str(TRANSLATIONS))


@translate.command("pseudo")
@click.argument(
    "target", type=click.Path(file_okay=False, path_type=Path), default=ROOT / "instance" / "pseudo"
)
def pseudo(target: Path) -> None:
    """Build the pseudo-locale (every string in ⟦markers⟧) as TARGET's English catalog."""
    from app.core import pseudo as pseudo_locale

    mo = pseudo_locale.build(target, extract)
    click.echo(f"Wrote {mo}. Serve it with BABEL_TRANSLATION_DIRECTORIES={target} (make pseudo).")


@translate.command("check")
def check() -> None:
    """Fail if any catalog misses, leaves untranslated or marks fuzzy any string."""
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
            problems = catalog_problems(po, pot)
            lang = po.parent.parent.name
            if problems:
                failed = True
                click.echo(f"{lang}: {len(problems)} problem(s)")
                for problem in problems[:50]:
                    click.echo(f"  {problem}")
            else:
                click.echo(f"{lang}: complete")
    if failed:
        raise SystemExit(1)


audit_cli = AppGroup("audit", help="Check the audit trail; set up the database roles.")


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Walk the audit trail's hash chain; name the first row that does not follow (exit 1)."""
    from app.core import audit
    from app.extensions import db

    report = audit.verify(db.session)
    if report.ok:
        click.echo(f"The audit trail is intact: {report.rows} rows, head {report.head}.")
        click.echo("Keep the head somewhere else: a trail cut short at the end still verifies.")
        return
    click.echo(
        f"The audit trail is broken at row id {report.broken_id} (number {report.broken_seq}): "
        f"{report.problem}. The {report.rows} rows before it verify; their head is "
        f"{report.head}.",
        err=True,
    )
    raise SystemExit(1)


@audit_cli.command("roles")
@click.option("--schema", default="public", show_default=True)
@click.option("--owner", default="carecircle_owner", show_default=True)
@click.option("--app-role", default="carecircle_app", show_default=True)
@click.option("--create", is_flag=True, help="Also print CREATE ROLE for both roles.")
def audit_roles_command(schema: str, owner: str, app_role: str, create: bool) -> None:
    """Print the SQL that lets the app role run the app but only add to and read the audit
    trail (run it as the owner, after `flask db upgrade`)."""
    from app.core import dbroles

    statements = dbroles.create_roles(owner=owner, app_role=app_role) if create else []
    statements += dbroles.app_role_grants(schema=schema, owner=owner, app_role=app_role)
    for statement in statements:
        click.echo(f"{statement};")


def register(app: Flask) -> None:
    from app.core.icons import icons_cli

    app.cli.add_command(translate)
    app.cli.add_command(icons_cli)
    app.cli.add_command(audit_cli)
