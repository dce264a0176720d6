from flask_babel import lazy_gettext as _l

from app.messaging.models import Topic

TOPIC_LABELS = {
    Topic.MEDICATION: _l("A medicine question"),
    Topic.APPOINTMENT: _l("An appointment"),
    Topic.SYMPTOMS: _l("How I feel (symptoms)"),
    Topic.CARE_PLAN: _l("My care plan"),
    Topic.SOCIAL_NEEDS: _l("Food, housing or other needs"),
    Topic.BILLING: _l("Bills and costs"),
    Topic.OTHER: _l("Something else"),
}

VIEW_LABELS = {
    "unassigned": _l("Not taken yet"),
    "mine": _l("Mine"),
    "overdue": _l("Overdue"),
    "all": _l("All"),
}

AUDIT_RESOURCES = {
    "messaging.threads": _l("Your messages"),
    "messaging.thread": _l("A message thread"),
    "messaging.inbox": _l("Your message in the care team's inbox"),
}
