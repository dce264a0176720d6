"""Plain-language names for goal statuses, translated at render time."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from app.careplan.goals.models import GoalAchievement, GoalLifecycle

L = GoalLifecycle
A = GoalAchievement

LIFECYCLE_LABELS = {
    L.PROPOSED: _l("Suggested"),
    L.ACCEPTED: _l("Agreed, not started yet"),
    L.ACTIVE: _l("Working on it"),
    L.ON_HOLD: lazy_pgettext("goal status", "On hold"),
    L.COMPLETED: lazy_pgettext("goal status", "Finished"),
    L.CANCELLED: lazy_pgettext("goal status", "Stopped"),
    L.REJECTED: lazy_pgettext("goal status", "Said no"),
}

ACHIEVEMENT_LABELS = {
    A.IN_PROGRESS: _l("In progress"),
    A.IMPROVING: _l("Getting better"),
    A.WORSENING: _l("Getting harder"),
    A.ACHIEVED: _l("Reached"),
    A.NOT_ACHIEVED: _l("Not reached"),
}
