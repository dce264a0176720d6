"""Signals between domains: how one domain learns what another did without importing it.

A domain that changes something sends a signal after its service has flushed the change, in
the same transaction; receivers add their own work to that transaction (they only flush), so
the request still commits once, or rolls everything back together. Receivers must not commit,
must not send anything over the network (queue it; `core.uow.on_commit` and the outboxes do the
sending) and must not raise for a rule of their own: the sender's change is the point.

Who sends and who listens is written here, next to each signal, and in
docs/architecture.md. Receivers connect in their domain's `init_app`, so a domain that is not
installed simply does not react.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

plan_item_changed = _signals.signal(
    "plan-item-changed",
    doc="""A plan item was added or changed (its status included).

    :param sender: the `PlanItem`, flushed.
    :param added: True when the item is new.
    :param fields: names of the fields that changed (empty for a new item).

    Sent by `careplan.items.services`. Reminders re-plan the item's texts (an appointment
    moved or closed, a medicine or task stopped).
    """,
)

goal_changed = _signals.signal(
    "goal-changed",
    doc="""A goal was added, changed or moved along its lifecycle (not sent for check-ins).

    :param sender: the `Goal`, flushed.
    :param fields: names of the fields that changed.

    Sent by `careplan.goals.services`. Reminders re-plan the goal's check-in texts (a goal on
    hold or finished gets none).
    """,
)

thread_answered = _signals.signal(
    "thread-answered",
    doc="""The care team wrote to the patient side in a thread (not an internal note).

    :param sender: the `Thread`, flushed.

    Sent by `messaging.services.add_message`. Notifications tell the patient (text, email)
    and the caregivers who may read the thread (email) that a message is waiting.
    """,
)

grant_changed = _signals.signal(
    "grant-changed",
    doc="""What a caregiver may do or see for a patient changed (scopes, categories, end date).

    :param sender: the `CaregiverGrant`, flushed.

    Sent by `caregivers.invitations.change`. Reminders drop texts waiting for that caregiver
    that the grant no longer allows.
    """,
)

grant_ended = _signals.signal(
    "grant-ended",
    doc="""A caregiver's access to a patient ended: the patient or the team ended it, or the
    rules did (its end date passed, the patient became an adult).

    :param sender: the `CaregiverGrant`, flushed.

    Sent by `caregivers.invitations.end` and `caregivers.lifecycle.sweep`. Reminders drop the
    texts still waiting for that caregiver about that patient.
    """,
)

patient_contact_changed = _signals.signal(
    "patient-contact-changed",
    doc="""The patient's own mobile number changed.

    :param sender: the `Patient`, flushed.
    :param old_phone: the number before (or None).

    Sent by `reminders.verification.check` only: a new number is saved once a code sent to
    it came back (the patient's own change, or a staff change). Reminders drop the texts
    waiting for the old number and plan them again for the new one.
    """,
)
