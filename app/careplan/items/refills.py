"""Refill requests: the patient side asks for a refill of a medicine, the pharmacy team answers
in one step ("Sent to pharmacy" / "Needs a visit").

A request opens a thread on the medication topic (routed to pharmacy) about the medicine, in
the requester's language. One open request per medicine: a partial unique index (state
'requested') and an INSERT .. ON CONFLICT DO NOTHING, so a second request (a double tap, two
phones) finds the open one and starts no second thread. The answer is one conditional UPDATE
(WHERE state = 'requested'): of two pharmacists at once one wins and the other is told who
answered. The answer is posted to the thread in the patient's language (so the patient gets
the usual "a message is waiting" notice) and the thread is resolved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Mapped, aliased, joinedload, mapped_column, relationship

from app.auth.models import User
from app.careplan.items.models import ItemKind, PlanItem
from app.careplan.items.panels import item_panel
from app.core import audit
from app.core.access import Permission, can
from app.core.db import enum_column, insert, utcnow
from app.core.errors import RuleError
from app.core.i18n import for_recipient
from app.core.privacy import visible
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Thread, ThreadStatus, Topic

NOTE_MAX = 500


class RefillState(enum.StrEnum):
    REQUESTED = "requested"
    SENT_TO_PHARMACY = "sent_to_pharmacy"
    NEEDS_VISIT = "needs_visit"


#: The pharmacy team's answers, as their buttons say them.
ANSWER_LABELS = {
    RefillState.SENT_TO_PHARMACY: _l("Sent to pharmacy"),
    RefillState.NEEDS_VISIT: _l("Needs a visit"),
}

OPEN_ONLY = sa.text("state = 'requested'")


class RefillRequest(db.Model):
    """A request to refill one medicine, and the pharmacy team's answer."""

    __tablename__ = "refill_requests"
    __table_args__ = (
        # One open request per medicine: the second INSERT finds this and does nothing.
        sa.Index(
            "uq_refill_requests_open_item",
            "item_id",
            unique=True,
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
        sa.Index("ix_refill_requests_item_requested", "item_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    #: The conversation the request opened (the team's answer is posted there).
    thread_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("message_threads.id", ondelete="SET NULL"), index=True
    )
    #: The pharmacy to send it to: the patient's preference, or the one the requester named.
    pharmacy: Mapped[str] = mapped_column(sa.String(160))
    state: Mapped[RefillState] = mapped_column(
        enum_column(RefillState, length=20), default=RefillState.REQUESTED
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    handled_at: Mapped[datetime | None] = mapped_column()

    item: Mapped[PlanItem] = relationship(lazy="raise")
    thread: Mapped[Thread | None] = relationship(lazy="raise")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="raise")
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id], lazy="raise")

    @property
    def is_open(self) -> bool:
        return self.state is RefillState.REQUESTED


LOADS = (
    joinedload(RefillRequest.item),
    joinedload(RefillRequest.requested_by),
    joinedload(RefillRequest.handled_by),
)


# ------------------------------------------------------------------ reads


def open_request(item_id: int) -> RefillRequest | None:
    return db.session.scalar(
        sa.select(RefillRequest)
        .where(RefillRequest.item_id == item_id, RefillRequest.state == RefillState.REQUESTED)
        .options(*LOADS)
    )


def latest_for_item(item_id: int) -> RefillRequest | None:
    """The medicine's most recent request (open or answered), for its page."""
    return db.session.scalar(
        sa.select(RefillRequest)
        .where(RefillRequest.item_id == item_id)
        .options(*LOADS)
        .order_by(RefillRequest.requested_at.desc(), RefillRequest.id.desc())
        .limit(1)
    )


def for_thread(thread: Thread, hidden: frozenset[str]) -> RefillRequest | None:
    """The request a thread was opened for, if its medicine is one the viewer may see. Only a
    medication thread about a plan item can have one: other threads cost no query."""
    if thread.topic is not Topic.MEDICATION or thread.plan_item_id is None:
        return None
    return db.session.scalar(
        sa.select(RefillRequest)
        .join(PlanItem, PlanItem.id == RefillRequest.item_id)
        .where(
            RefillRequest.thread_id == thread.id,
            RefillRequest.patient_id == thread.patient_id,
            visible(PlanItem.sensitivity, hidden),
        )
        .options(*LOADS)
        .order_by(RefillRequest.id.desc())
        .limit(1)
    )


def of_patient(patient_id: int, refill_id: int, hidden: frozenset[str]) -> RefillRequest | None:
    """One request of this patient whose medicine the viewer may see (None: the caller 404s)."""
    medicine = aliased(PlanItem)  # the thread's own sensitivity reads plan_items unaliased
    return db.session.scalar(
        sa.select(RefillRequest)
        .join(medicine, medicine.id == RefillRequest.item_id)
        .where(
            RefillRequest.id == refill_id,
            RefillRequest.patient_id == patient_id,
            visible(medicine.sensitivity, hidden),
        )
        .options(*LOADS, joinedload(RefillRequest.thread))
    )


# ------------------------------------------------------------------ writes


@dataclass
class RefillInput:
    pharmacy: str
    note: str | None = None


def request_refill(
    item: PlanItem, data: RefillInput, *, author_id: int, capacity: str
) -> tuple[RefillRequest, bool]:
    """Ask for a refill of `item`: (the request, True) when this made it; (the open one,
    False) when one was open already (nothing else happens then)."""
    if item.kind is not ItemKind.MEDICATION or not item.is_open:
        raise RuleError(_l("Only a medicine in the plan can be refilled."))
    pharmacy = " ".join(data.pharmacy.split())[:160]
    if not pharmacy:
        raise RuleError(_l("Say which pharmacy should fill it."), status=422)
    now = utcnow()
    made = db.session.scalar(
        insert(db.session, RefillRequest)
        .values(
            item_id=item.id,
            patient_id=item.patient_id,
            pharmacy=pharmacy,
            state=RefillState.REQUESTED,
            requested_by_id=author_id,
            requested_at=now,
        )
        .on_conflict_do_nothing(index_elements=["item_id"], index_where=OPEN_ONLY)
        .returning(RefillRequest.id)
    )
    if made is None:
        found = open_request(item.id)
        if found is None:  # answered between the INSERT and this read: ask again
            raise RuleError(_l("Your request crossed with an answer. Please look again."))
        return found, False
    medicine = item.medication_name or item.title
    lines = [
        _("Please refill %(medicine)s.", medicine=medicine),
        _("Pharmacy: %(pharmacy)s", pharmacy=pharmacy),
    ]
    if item.dose:
        lines.insert(1, _("Dose: %(dose)s", dose=item.dose))
    if data.note:
        lines.append(data.note.strip())
    thread = messaging.start_thread(
        patient_id=item.patient_id,
        topic=Topic.MEDICATION,
        subject=_("Refill request: %(medicine)s", medicine=medicine)[:160],
        body="\n".join(lines),
        author_id=author_id,
        capacity=capacity,
        plan_item=item,
        now=now,
    )
    db.session.execute(
        sa.update(RefillRequest)
        .where(RefillRequest.id == made)
        .values(thread_id=thread.id)
        .execution_options(synchronize_session=False)
    )
    _audit(item, "create")
    found = db.session.scalar(
        sa.select(RefillRequest).where(RefillRequest.id == made).options(*LOADS)
    )
    return found, True


def answer(refill: RefillRequest, state: RefillState, *, user_id: int, patient) -> bool:
    """The pharmacy team's one-step answer. True when it was this call's; False for a repeat
    of the same answer by the same person (a double tap); a RuleError naming who answered
    when someone else did first."""
    if state not in ANSWER_LABELS:
        raise RuleError(_l("That is not an answer to a refill request."), status=400)
    now = utcnow()
    moved = db.session.execute(
        sa.update(RefillRequest)
        .where(RefillRequest.id == refill.id, RefillRequest.state == RefillState.REQUESTED)
        .values(state=state, handled_by_id=user_id, handled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(refill, ["state", "handled_by_id", "handled_at"])
    if not moved:
        if refill.state is state and refill.handled_by_id == user_id:
            return False
        name = db.session.scalar(sa.select(User.full_name).where(User.id == refill.handled_by_id))
        raise RuleError(
            _l(
                "%(name)s already answered this request: %(answer)s.",
                name=name or _l("Someone"),
                answer=ANSWER_LABELS.get(refill.state, ""),
            )
        )
    thread = refill.thread
    if thread is not None:
        with for_recipient(patient):  # the patient's language, whoever answers
            body = answer_text(refill, state)
        messaging.add_message(thread, body=body, author_id=user_id, capacity="care_team", now=now)
        if thread.status is ThreadStatus.OPEN:
            messaging.resolve(thread, user_id)
    _audit(refill.item, "update")
    return True


def answer_text(refill: RefillRequest, state: RefillState) -> str:
    medicine = refill.item.medication_name or refill.item.title
    if state is RefillState.SENT_TO_PHARMACY:
        return _(
            "We sent your refill of %(medicine)s to %(pharmacy)s. Ask the pharmacy when it "
            "will be ready.",
            medicine=medicine,
            pharmacy=refill.pharmacy,
        )
    return _(
        "Before we refill %(medicine)s, your care team wants to see you. Please make an "
        "appointment, or write to us here.",
        medicine=medicine,
    )


def _audit(item: PlanItem, action: str) -> None:
    audit.record(
        action=action, resource="careplan.item", resource_id=item.id, patient_id=item.patient_id
    )


# ------------------------------------------------------------------ the medicine's page


@item_panel
def refill_panel(patient, item) -> dict:
    """A medicine's page: its latest refill request, and whether the viewer may ask for one."""
    if item.kind is not ItemKind.MEDICATION:
        return {}
    return {
        "refill": latest_for_item(item.id),
        "may_request_refill": item.is_open and can(current_user, Permission.SEND_MESSAGES, patient),
    }
