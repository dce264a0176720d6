from flask_babel import lazy_gettext as _l

from app.caregivers.models import EndedReason, GrantKind, Scope

SCOPE_LABELS = {
    Scope.PLAN: _l("See the care plan"),
    Scope.MESSAGES: _l("See and send messages"),
    Scope.REMINDERS: _l("Get reminders"),
    Scope.APPOINTMENTS: _l("Manage appointments"),
    Scope.GOALS: _l("Edit goals and preferences"),
    Scope.DECISIONS: _l("Take part in decisions"),
}

KIND_LABELS = {
    GrantKind.DELEGATE: _l("Invited by the patient"),
    GrantKind.GUARDIAN: _l("Parent or legal guardian of a minor"),
    GrantKind.LEGAL_REPRESENTATIVE: _l("Legal representative of an adult"),
}

ENDED_LABELS = {
    EndedReason.EXPIRED.value: _l("Ended on its end date"),
    EndedReason.AGE_OF_MAJORITY.value: _l("Ended when the patient became an adult"),
}

AUDIT_RESOURCES = {
    "caregivers.grant": _l("Who can help with your record"),
    "caregivers.invitation": _l("An invitation to help with your record"),
    "caregivers.people": _l("Your name, in their list of people they help"),
}

AUDIT_ACTIONS = {
    "invite": _l("Invited"),
    "cancel": _l("Cancelled"),
    "accept": _l("Accepted"),
    "revoke": _l("Ended"),
}
