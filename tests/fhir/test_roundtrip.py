"""Export -> import into an empty database -> export again gives the same resources, ids and
meta.lastUpdated aside (issue 17: "Done when"). What the import deliberately does not take
back is named in NOT_IMPORTED, with the reason."""

from __future__ import annotations

import contextlib
import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app import create_app
from app.extensions import db
from app.fhir.clients import create
from tests.fhir.fhir_world import bearer
from tests.fixtures.app import ON_POSTGRES, postgres_schema

#: Resource types the import does not take back: none. RelatedPerson and Consent come back
#: through the patient's own yes (the import proposes, the patient invites, the caregiver
#: accepts: `consented`), Communication as the thread's history, Organization as each item's
#: own organization (its source-organization extension).
NOT_IMPORTED: set[str] = set()
THREAD = "https://fhir.carecircle.org/sid/message-thread"

#: Where the first export came from, for the import: its ids come back as identifiers.
SOURCE = "https://portal.example/fhir"
AREA = "https://fhir.carecircle.org/StructureDefinition/area-of-life"
TIMING = "https://fhir.carecircle.org/StructureDefinition/task-timing"
NEED = "https://fhir.carecircle.org/CodeSystem/referral-need"

#: What the import does not take back today, field by field (each a gap of app/fhir/inbound.py,
#: for whoever extends it); the rest of every resource must come back the same, so a new loss
#: fails this test.
KNOWN_LOSSES: dict[str, list[str]] = {}


def drop_losses(resource: dict) -> dict:
    resource = json.loads(json.dumps(resource))
    # The first export's ids, kept by the import (app.fhir.sources): ids are aside.
    identifiers = [i for i in resource.get("identifier", []) if i.get("system") != SOURCE]
    if identifiers:
        resource["identifier"] = identifiers
    else:
        resource.pop("identifier", None)
    for path in KNOWN_LOSSES.get(resource["resourceType"], []):
        if ":" in path:
            field, system = path.split(":", 1)
            kept = [
                e
                for e in resource.get(field, [])
                if e.get("url") != system
                and all(c.get("system") != system for c in e.get("coding", []))
            ]
            if kept:
                resource[field] = kept
            else:
                resource.pop(field, None)
            continue
        *parents, last = path.split(".")
        nodes = [resource]
        for name in parents:
            found = []
            for node in nodes:
                value = node.get(name)
                found += value if isinstance(value, list) else [value] if value else []
            nodes = found
        for node in nodes:
            node.pop(last, None)
    return resource


@contextlib.contextmanager
def empty_database(tmp_path):
    """A second app on a brand-new, empty database (its own file, or its own schema)."""
    if ON_POSTGRES:
        with postgres_schema("cc_rt") as (_schema, url, options):
            other = create_app(
                "testing", {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}
            )
            with other.app_context():
                db.create_all()
                yield other
                db.session.remove()
                db.engine.dispose()
    else:
        other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/rt.db"})
        with other.app_context():
            db.create_all()
            yield other
            db.session.remove()
            db.engine.dispose()


def export(app, patient_id: int) -> list[dict]:
    _client, token = create(f"rt-{patient_id}-{id(app)}", ["read"], all_patients=True)
    db.session.commit()
    response = app.test_client().get(
        f"/fhir/Patient/{patient_id}/$everything", headers=bearer(token)
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [entry["resource"] for entry in response.get_json()["entry"]]


def _strip(value, refs: dict | None):
    if isinstance(value, dict):
        if value.get("system") == THREAD and "value" in value:
            return {"system": THREAD}  # the thread's row id: ids are aside
        out = {}
        for key, item in value.items():
            if key in ("id", "lastUpdated"):
                continue
            if key == "reference" and isinstance(item, str):
                out[key] = (
                    refs.get(item, item.split("/")[0]) if refs is not None else item.split("/")[0]
                )
                continue
            out[key] = _strip(item, refs)
        return out
    if isinstance(value, list):
        return [_strip(v, refs) for v in value]
    return value


def normalized(resources: list[dict]) -> list[str]:
    """Each resource without its id and lastUpdated, its references replaced by what they
    point at (the target's type and content), as sorted canonical JSON."""
    kept = [drop_losses(r) for r in resources if r["resourceType"] not in NOT_IMPORTED]
    refs = {}
    for r in kept:
        shape = json.dumps(_strip(r, None), sort_keys=True)
        refs[f"{r['resourceType']}/{r['id']}"] = (
            f"{r['resourceType']}#{hashlib.sha256(shape.encode()).hexdigest()[:12]}"
        )
    found = []
    for resource in kept:
        stripped = _strip(resource, refs)
        if stripped["resourceType"] == "CarePlan":
            # In row id order; the import creates rows type by type, and ids are aside.
            for name in ("activity", "goal"):
                stripped[name] = sorted(stripped.get(name, []), key=json.dumps)
        found.append(json.dumps(stripped, sort_keys=True))
    return sorted(found)


def consented(app, patient_id: int, caregiver_name: str) -> None:
    """What people do in between, since an import never grants access: the patient (given an
    account) invites the person the record proposes, and that person accepts."""
    from app.auth.models import Role, User
    from app.caregivers import invitations
    from app.caregivers.models import CaregiverInvitation
    from app.fhir import proposals
    from app.patients.models import Patient

    patient = db.session.get(Patient, patient_id)
    me = User(email="rt-patient@example.test", full_name=patient.full_name, role=Role.PATIENT)
    helper = User(email="rt-helper@example.test", full_name=caregiver_name, role=Role.CAREGIVER)
    db.session.add_all([me, helper])
    db.session.flush()
    patient.user_id = me.id
    (proposal,) = proposals.open_for(patient_id)
    with app.test_request_context():
        invitation = proposals.invite(proposal, patient, me, email=helper.email)
        assert invitation is not None
        invitation = db.session.scalar(
            sa.select(CaregiverInvitation)
            .where(CaregiverInvitation.id == invitation.id)
            .options(joinedload(CaregiverInvitation.patient))
        )
        invitations.accept(invitation, helper)
    db.session.commit()


def test_export_import_export_gives_the_same_resources(app, fhir_world, tmp_path):
    from app.fhir.inbound import import_data
    from app.patients.models import Patient

    w = fhir_world
    first = export(app, w.bravo.patient.id)
    helper_name = w.bravo.caregiver.full_name
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"{SOURCE}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in first
        ],
    }
    with empty_database(tmp_path) as other:
        import_data(json.loads(json.dumps(bundle)), source_system=SOURCE)
        db.session.commit()
        (patient_id,) = db.session.scalars(sa.select(Patient.id)).all()
        consented(other, patient_id, helper_name)
        second = export(other, patient_id)
    # The import kept the first export's ids, and the second export gives them back, so the
    # system they came from can match what it sent.
    (patient,) = [r for r in second if r["resourceType"] == "Patient"]
    assert {"system": SOURCE, "value": str(w.bravo.patient.id)} in patient["identifier"]
    goals = [r for r in second if r["resourceType"] == "Goal"]
    assert {i["value"] for g in goals for i in g["identifier"]} == {
        r["id"] for r in first if r["resourceType"] == "Goal"
    }
    kinds = {"RelatedPerson", "Consent", "Communication", "Organization"}
    assert kinds <= {r["resourceType"] for r in first}
    assert {r["resourceType"] for r in first} == {r["resourceType"] for r in second}
    a, b = normalized(first), normalized(second)
    only_first = sorted(set(a) - set(b))
    only_second = sorted(set(b) - set(a))
    assert only_first == only_second == [], "\n".join(
        ["--- first only:", *only_first, "--- second only:", *only_second]
    )
