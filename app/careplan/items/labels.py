"""Plain-language names for plan item values, translated at render time.

A few speak about the patient ("My medicines", "They contacted you"). Those are decided when
shown, by who reads them (`for_viewer`): the patient reads "My medicines"; a caregiver or the
care team reads "Jim's medicines".
"""

from collections.abc import Callable

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.careplan.items.models import (
    Area,
    FlagKind,
    ItemKind,
    ItemStatus,
    OwnerKind,
    ReferralNeed,
    ReferralStatus,
    Schedule,
)
from app.core.privacy import Capacity, current_actor


def for_viewer(own: Callable[[], str], other: Callable[[str], str]) -> LazyString:
    """A label in the patient's own words (`own()`) when the patient reads their record, and
    about them (`other(name)`, with their preferred name) when anyone else does. Outside a
    patient's record (a job, a page about no patient) it is the patient's own words."""

    def pick() -> str:
        actor = current_actor()
        if actor.patient is None or actor.capacity is Capacity.PATIENT:
            return own()
        return other(actor.patient.display_name)

    return LazyString(pick)


KIND_LABELS = {
    ItemKind.MEDICATION: _l("Medicine"),
    ItemKind.APPOINTMENT: _l("Appointment"),
    ItemKind.REFERRAL: _l("Referral"),
    ItemKind.TASK: _l("Self-care task"),
    ItemKind.EDUCATION: _l("Learning"),
    ItemKind.TEST: _l("Test or procedure"),
}

STATUS_LABELS = {
    ItemStatus.PLANNED: _l("Planned"),
    ItemStatus.ACTIVE: _l("Active"),
    ItemStatus.ON_HOLD: _l("On hold"),
    ItemStatus.COMPLETED: _l("Done"),
    ItemStatus.CANCELLED: _l("Cancelled"),
    ItemStatus.STOPPED: _l("Stopped"),
}

#: The icon of each area of life (its colour is the CSS class area-<value>, home.css).
AREA_ICONS = {
    Area.PHYSICAL_HEALTH: "heart-pulse",
    Area.MEDICINES: "pill",
    Area.EMOTIONAL_HEALTH: "brain",
    Area.DAILY_LIVING: "footprints",
    Area.HOME_FOOD_TRANSPORT: "apple",
    Area.TEETH: "smile",
}

AREA_LABELS = {
    Area.PHYSICAL_HEALTH: for_viewer(
        lambda: _("My body"), lambda name: _("%(name)s's body", name=name)
    ),
    Area.MEDICINES: for_viewer(
        lambda: _("My medicines"), lambda name: _("%(name)s's medicines", name=name)
    ),
    Area.EMOTIONAL_HEALTH: for_viewer(
        lambda: _("My feelings and mind"),
        lambda name: _("%(name)s's feelings and mind", name=name),
    ),
    Area.DAILY_LIVING: _l("Daily life and habits"),
    Area.HOME_FOOD_TRANSPORT: _l("Home, food and getting around"),
    Area.TEETH: for_viewer(lambda: _("My teeth"), lambda name: _("%(name)s's teeth", name=name)),
}

OWNER_LABELS = {
    OwnerKind.TEAM_MEMBER: _l("Care team member"),
    OwnerKind.ORGANIZATION: _l("Organization"),
    OwnerKind.PATIENT: _l("The patient"),
    OwnerKind.CAREGIVER: _l("Caregiver"),
}

REFERRAL_STATUS_LABELS = {
    ReferralStatus.SENT: _l("Referral sent"),
    ReferralStatus.CONTACTED: for_viewer(
        lambda: _("They contacted you"), lambda name: _("They contacted %(name)s", name=name)
    ),
    ReferralStatus.ENROLLED: _l("Signed up"),
    ReferralStatus.DECLINED: _l("Said no"),
}

NEED_LABELS = {
    ReferralNeed.CLINICAL: _l("Health care"),
    ReferralNeed.FOOD: _l("Food"),
    ReferralNeed.HOUSING: _l("Housing"),
    ReferralNeed.TRANSPORT: _l("Transportation"),
    ReferralNeed.UTILITIES: _l("Utilities"),
    ReferralNeed.OTHER_SOCIAL: _l("Other help"),
}

SCHEDULE_LABELS = {
    Schedule.DAILY: _l("Every day"),
    Schedule.WEEKLY: _l("Every week"),
    Schedule.ONCE: _l("Once"),
}

#: What the patient (or someone helping them) reads about a flag, in plain words.
FLAG_PATIENT_TEXT = {
    FlagKind.DUPLICATE_TEST: for_viewer(
        lambda: _("Two of your providers ordered this test. Your care team is checking."),
        lambda name: _(
            "Two of %(name)s's providers ordered this test. The care team is checking.",
            name=name,
        ),
    ),
    FlagKind.DUPLICATE_MEDICATION: for_viewer(
        lambda: _("Two of your providers prescribed this medicine. Your care team is checking."),
        lambda name: _(
            "Two of %(name)s's providers prescribed this medicine. The care team is checking.",
            name=name,
        ),
    ),
    FlagKind.SAME_INGREDIENT: for_viewer(
        lambda: _("Two of your medicines have the same ingredient. Your care team is checking."),
        lambda name: _(
            "Two of %(name)s's medicines have the same ingredient. The care team is checking.",
            name=name,
        ),
    ),
}

#: What the care team reads about a flag.
FLAG_TEAM_TEXT = {
    FlagKind.DUPLICATE_TEST: _l("Same test ordered by two organizations"),
    FlagKind.DUPLICATE_MEDICATION: _l("Same medicine from two prescribers"),
    FlagKind.SAME_INGREDIENT: _l("Same ingredient from two prescribers"),
}
