"""Who may move a goal where: the lifecycle (FHIR Goal statuses) and the patient side's say.

Patients (and caregivers with the "goals" scope) write goals in their own words; the care team
may propose goals, which only the patient side can accept or decline. A refused move raises
`RuleError` with a message the user reads as it is.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from app.careplan.goals.labels import LIFECYCLE_LABELS
from app.careplan.goals.models import Goal, GoalAchievement, GoalLifecycle
from app.core.errors import RuleError
from app.core.privacy import PATIENT_SIDE, Capacity

L = GoalLifecycle
A = GoalAchievement

#: Where each lifecycle status may go next. Everything else is refused.
TRANSITIONS: dict[GoalLifecycle, frozenset[GoalLifecycle]] = {
    L.PROPOSED: frozenset({L.ACCEPTED, L.ACTIVE, L.REJECTED, L.CANCELLED}),
    L.ACCEPTED: frozenset({L.ACTIVE, L.ON_HOLD, L.CANCELLED}),
    L.ACTIVE: frozenset({L.ON_HOLD, L.COMPLETED, L.CANCELLED}),
    L.ON_HOLD: frozenset({L.ACTIVE, L.CANCELLED}),
    L.COMPLETED: frozenset(),
    L.CANCELLED: frozenset(),
    L.REJECTED: frozenset(),
}

FINAL = frozenset({L.COMPLETED, L.CANCELLED, L.REJECTED})
#: Goals someone is (or soon will be) working on.
CURRENT = frozenset({L.ACCEPTED, L.ACTIVE, L.ON_HOLD})
#: Check-ins are only for goals someone is working on.
CHECK_IN_STATUSES = CURRENT
#: Only the patient side answers a proposed goal; only the team withdraws its proposal.
PATIENT_SIDE_ONLY = frozenset(
    {(L.PROPOSED, L.ACCEPTED), (L.PROPOSED, L.ACTIVE), (L.PROPOSED, L.REJECTED)}
)
TEAM_ONLY = frozenset({(L.PROPOSED, L.CANCELLED)})
FINISHED_ACHIEVEMENTS = frozenset({A.ACHIEVED, A.NOT_ACHIEVED})


def start_status(start_date: date | None, today: date) -> GoalLifecycle:
    """Agreed goals are active at once, unless they are set to start later."""
    return L.ACCEPTED if start_date is not None and start_date > today else L.ACTIVE


def require_open(goal: Goal) -> None:
    if goal.lifecycle_status in FINAL:
        raise RuleError(
            _("This goal is closed, so it can't be changed. You can add a new goal instead.")
        )


def check_transition(goal: Goal, target: GoalLifecycle, capacity: Capacity) -> None:
    """Raise RuleError, in plain words, unless this user may make this move now."""
    current = goal.lifecycle_status
    require_open(goal)
    if target is current:
        raise RuleError(_('This goal is already "%(status)s".', status=LIFECYCLE_LABELS[target]))
    if target not in TRANSITIONS[current]:
        raise RuleError(
            _(
                'A goal that is "%(current)s" can\'t be changed to "%(new)s".',
                current=LIFECYCLE_LABELS[current],
                new=LIFECYCLE_LABELS[target],
            )
        )
    if (current, target) in PATIENT_SIDE_ONLY and capacity not in PATIENT_SIDE:
        raise RuleError(
            _("Only the patient or their caregiver can say yes or no to a suggested goal.")
        )
    if (current, target) in TEAM_ONLY and capacity in PATIENT_SIDE:
        raise RuleError(
            _('To turn down a suggested goal, choose "Say no" and tell your care team why.')
        )


def next_steps(goal: Goal, capacity: Capacity) -> list[GoalLifecycle]:
    """The moves this user may make now, for the buttons on the goal page."""
    allowed = []
    for target in sorted(TRANSITIONS[goal.lifecycle_status], key=list(L).index):
        try:
            check_transition(goal, target, capacity)
        except RuleError:
            continue
        allowed.append(target)
    return allowed


def computed_achievement(
    goal: Goal, previous: float | None, value: float | None
) -> GoalAchievement | None:
    """Improving or worsening from the last two numbers, when the goal says which way is
    better; None when there is nothing to compare (or the number did not move)."""
    if goal.higher_is_better is None or previous is None or value is None or value == previous:
        return None
    went_up = value > previous
    return A.IMPROVING if went_up == goal.higher_is_better else A.WORSENING
