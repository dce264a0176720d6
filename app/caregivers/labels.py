from flask_babel import lazy_gettext as _l

from app.caregivers.models import Scope

SCOPE_LABELS = {
    Scope.PLAN: _l("See the care plan"),
    Scope.MESSAGES: _l("See and send messages"),
    Scope.REMINDERS: _l("Get reminders"),
    Scope.APPOINTMENTS: _l("Manage appointments"),
    Scope.GOALS: _l("Edit goals and preferences"),
    Scope.DECISIONS: _l("Take part in decisions"),
}
