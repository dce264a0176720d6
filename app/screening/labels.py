"""The words of the social needs screening outside its questions: needs, the referrals it
suggests (written in the patient's language when saved), and its audit resources."""

from flask_babel import lazy_gettext as _l

from app.careplan.items.models import Area, ReferralNeed
from app.screening.questions import Need

#: A need, as the team and the patient read it ("Housing").
NEED_LABELS = {
    Need.HOUSING: _l("Housing"),
    Need.FOOD: _l("Food"),
    Need.TRANSPORTATION: _l("Transportation"),
    Need.UTILITIES: _l("Utilities"),
    Need.SAFETY: _l("Safety"),
}

#: The plan's referral need for each screening need (safety: "other social need").
REFERRAL_NEEDS = {
    Need.HOUSING: ReferralNeed.HOUSING,
    Need.FOOD: ReferralNeed.FOOD,
    Need.TRANSPORTATION: ReferralNeed.TRANSPORT,
    Need.UTILITIES: ReferralNeed.UTILITIES,
    Need.SAFETY: ReferralNeed.OTHER_SOCIAL,
}

#: The suggested referral's title, in the patient's words (a neutral one for safety: the
#: title shows on the patient's plan, on a phone someone else may look at).
REFERRAL_TITLES = {
    Need.HOUSING: _l("Help with housing"),
    Need.FOOD: _l("Help getting food"),
    Need.TRANSPORTATION: _l("Help with rides"),
    Need.UTILITIES: _l("Help with utility bills"),
    Need.SAFETY: _l("A private talk with your care team"),
}

REFERRAL_AREAS = {
    Need.HOUSING: Area.HOME_FOOD_TRANSPORT,
    Need.FOOD: Area.HOME_FOOD_TRANSPORT,
    Need.TRANSPORTATION: Area.HOME_FOOD_TRANSPORT,
    Need.UTILITIES: Area.HOME_FOOD_TRANSPORT,
    Need.SAFETY: Area.DAILY_LIVING,
}

#: The icon of each need on the team's lists.
NEED_ICONS = {
    Need.HOUSING: "house",
    Need.FOOD: "apple",
    Need.TRANSPORTATION: "map",
    Need.UTILITIES: "thermometer",
    Need.SAFETY: "shield",
}

#: How the answering capacity reads on the team's page.
ANSWERED_AS_LABELS = {
    "patient": _l("The patient"),
    "caregiver": _l("A caregiver"),
    "care_team": _l("The care team"),
}

AUDIT_RESOURCES = {
    "screening.response": _l("Your answers to the questions about your needs"),
    "screening.referral": _l("A referral for help with your needs"),
}
