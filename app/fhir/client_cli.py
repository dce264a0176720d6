"""`flask clients create NAME`, `flask clients list`, `flask clients revoke NAME`: integration
clients of the FHIR API (app.fhir.clients). The token is printed once, at creation."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.core.db import utcnow
from app.extensions import db
from app.fhir import clients as fhir_clients
from app.fhir.clients import ClientScope, FhirClient, FhirClientPatient

clients = AppGroup("clients", help="Integration clients of the FHIR API (bearer tokens).")


def _organization_id(value: str | None) -> int | None:
    from app.team.models import Organization

    if value is None:
        return None
    query = sa.select(Organization.id)
    query = query.where(
        Organization.id == int(value) if value.isdigit() else Organization.name == value
    )
    found = db.session.scalar(query)
    if found is None:
        raise click.BadParameter(f"no organization {value!r}", param_hint="--organization")
    return found


def _patient_ids(values: tuple[str, ...]) -> list[int]:
    from app.patients.models import Patient

    ids = []
    for value in values:
        query = sa.select(Patient.id).where(
            Patient.id == int(value) if value.isdigit() else Patient.member_number == value
        )
        found = db.session.scalar(query)
        if found is None:
            raise click.BadParameter(f"no patient {value!r}", param_hint="--patient")
        ids.append(found)
    return ids


@clients.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in ClientScope]),
    help="What it may do: import (POST /fhir), read (the read API). Repeat for both.",
)
@click.option("--organization", help="Read the patients of this organization (name or id).")
@click.option(
    "--patient", "patients", multiple=True, help="Read this patient (id or member number)."
)
@click.option("--all-patients", is_flag=True, help="Read every patient of the CCO.")
@click.option("--by", "by_email", help="The administrator creating it (email), for the record.")
def create_command(name, scopes, organization, patients, all_patients, by_email) -> None:
    """Create a client and print its token (once: only its hash is kept)."""
    from app.auth.models import User

    name = name.strip()
    if not name or len(name) > 80 or any(ord(c) < 32 for c in name):
        raise click.BadParameter("1 to 80 printable characters", param_hint="NAME")
    if db.session.scalar(sa.select(FhirClient.id).where(FhirClient.name == name)):
        raise click.ClickException(f"a client named {name!r} exists already")
    created_by_id = None
    if by_email:
        created_by_id = db.session.scalar(sa.select(User.id).where(User.email == by_email.lower()))
        if created_by_id is None:
            raise click.BadParameter(f"no account {by_email!r}", param_hint="--by")
    client, token = fhir_clients.create(
        name,
        list(scopes),
        organization_id=_organization_id(organization),
        patient_ids=_patient_ids(patients),
        all_patients=all_patients,
        created_by_id=created_by_id,
    )
    db.session.commit()
    click.echo(f"Created client {client.name} (id {client.id}), scopes: {', '.join(client.scopes)}")
    if ClientScope.READ.value in client.scopes and not (all_patients or organization or patients):
        click.echo("Note: it may read nobody yet (no --organization, --patient or --all-patients).")
    click.echo("Its token (shown once; store it in the client's secret store):")
    click.echo(token)


@clients.command("list")
def list_command() -> None:
    """The clients, their scopes, grants and last use (never a token)."""
    from app.team.models import Organization

    listed = sa.select(FhirClientPatient.client_id, sa.func.count()).group_by(
        FhirClientPatient.client_id
    )
    counts = dict(db.session.execute(listed).all())
    rows = db.session.execute(
        sa.select(FhirClient, Organization.name)
        .outerjoin(Organization, Organization.id == FhirClient.organization_id)
        .order_by(FhirClient.name)
    ).all()
    if not rows:
        click.echo("No clients.")
    for client, organization in rows:
        grant = []
        if client.all_patients:
            grant.append("all patients")
        if organization:
            grant.append(f"organization {organization}")
        if counts.get(client.id):
            grant.append(f"{counts[client.id]} listed patients")
        state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
        used = f"{client.last_used_at:%Y-%m-%d %H:%M}" if client.last_used_at else "never"
        click.echo(
            f"{client.name}\t{state}\tscopes={','.join(client.scopes)}\t"
            f"reads={'; '.join(grant) or 'nobody'}\tlast used={used}"
        )


@clients.command("revoke")
@click.argument("name")
def revoke_command(name) -> None:
    """Revoke a client's token: its next request is refused (401)."""
    client = db.session.scalar(sa.select(FhirClient).where(FhirClient.name == name))
    if client is None:
        raise click.ClickException(f"no client named {name!r}")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        db.session.commit()
    click.echo(f"Revoked {client.name}.")
