from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.messaging.models import Topic
from app.patients.forms import care_language_choices

TOPIC_LABELS = {
    Topic.MEDICATION: _l("A medicine question"),
    Topic.APPOINTMENT: _l("An appointment"),
    Topic.SYMPTOMS: _l("How I feel (symptoms)"),
    Topic.CARE_PLAN: _l("My care plan"),
    Topic.SOCIAL_NEEDS: _l("Food, housing or other needs"),
    Topic.BILLING: _l("Bills and costs"),
    Topic.OTHER: _l("Something else"),
    Topic.NOT_SURE: _l("I'm not sure"),
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


def language_name(code: str) -> str:
    """The name of a patient's language of care in the reader's language ("Spanish" to an
    English reader, "español" to a Spanish one); the care_languages mapping's own name (the
    language's name for itself) when Babel has none."""
    own = dict(care_language_choices()).get(code, code)
    try:
        name = (get_locale() or Locale("en")).languages.get(code)
    except (ValueError, TypeError):
        name = None
    return name[:1].upper() + name[1:] if name else own
