"""Plain-language names for plan item values, translated at render time."""

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

AREA_LABELS = {
    Area.PHYSICAL_HEALTH: _l("My body"),
    Area.MEDICINES: _l("My medicines"),
    Area.EMOTIONAL_HEALTH: _l("My feelings and mind"),
    Area.DAILY_LIVING: _l("Daily life and habits"),
    Area.HOME_FOOD_TRANSPORT: _l("Home, food and getting around"),
    Area.TEETH: _l("My teeth"),
}

OWNER_LABELS = {
    OwnerKind.TEAM_MEMBER: _l("Care team member"),
    OwnerKind.ORGANIZATION: _l("Organization"),
    OwnerKind.PATIENT: _l("The patient"),
    OwnerKind.CAREGIVER: _l("Caregiver"),
}

REFERRAL_STATUS_LABELS = {
    ReferralStatus.SENT: _l("Referral sent"),
    ReferralStatus.CONTACTED: _l("They contacted you"),
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

#: What the patient reads about a flag, in plain words.
FLAG_PATIENT_TEXT = {
    FlagKind.DUPLICATE_TEST: _l(
        "Two of your providers ordered this test. Your care team is checking."
    ),
    FlagKind.DUPLICATE_MEDICATION: _l(
        "Two of your providers prescribed this medicine. Your care team is checking."
    ),
    FlagKind.SAME_INGREDIENT: _l(
        "Two of your medicines have the same ingredient. Your care team is checking."
    ),
}

#: What the care team reads about a flag.
FLAG_TEAM_TEXT = {
    FlagKind.DUPLICATE_TEST: _l("Same test ordered by two organizations"),
    FlagKind.DUPLICATE_MEDICATION: _l("Same medicine from two prescribers"),
    FlagKind.SAME_INGREDIENT: _l("Same ingredient from two prescribers"),
}
