from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.caregivers.models import EndedReason, GrantKind, Relation, Scope

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

#: The choices of "How they are related to you", in the reader's language.
RELATION_LABELS = {
    Relation.PARENT: _l("Parent"),
    Relation.MOTHER: _l("Mother"),
    Relation.FATHER: _l("Father"),
    Relation.CHILD: _l("Child"),
    Relation.DAUGHTER: _l("Daughter"),
    Relation.SON: _l("Son"),
    Relation.SPOUSE: _l("Husband or wife"),
    Relation.PARTNER: _l("Partner"),
    Relation.SIBLING: _l("Brother or sister"),
    Relation.GRANDPARENT: _l("Grandparent"),
    Relation.GRANDCHILD: _l("Grandchild"),
    Relation.OTHER_FAMILY: _l("Other family member"),
    Relation.FRIEND: _l("Friend"),
    Relation.NEIGHBOR: _l("Neighbor"),
    Relation.LEGAL_GUARDIAN: _l("Legal guardian"),
    Relation.OTHER: _l("Other (say who)"),
}

#: "Rosa Martínez, Leo's mother": whole phrases, so each language orders them its own way and
#: nobody reads "Leo · mother" as Leo being the mother.
_OF_PATIENT = {
    Relation.PARENT: _l("%(name)s's parent"),
    Relation.MOTHER: _l("%(name)s's mother"),
    Relation.FATHER: _l("%(name)s's father"),
    Relation.CHILD: _l("%(name)s's child"),
    Relation.DAUGHTER: _l("%(name)s's daughter"),
    Relation.SON: _l("%(name)s's son"),
    Relation.SPOUSE: _l("%(name)s's husband or wife"),
    Relation.PARTNER: _l("%(name)s's partner"),
    Relation.SIBLING: _l("%(name)s's brother or sister"),
    Relation.GRANDPARENT: _l("%(name)s's grandparent"),
    Relation.GRANDCHILD: _l("%(name)s's grandchild"),
    Relation.OTHER_FAMILY: _l("Family member of %(name)s"),
    Relation.FRIEND: _l("%(name)s's friend"),
    Relation.NEIGHBOR: _l("%(name)s's neighbor"),
    Relation.LEGAL_GUARDIAN: _l("%(name)s's legal guardian"),
}

#: English words a patient may have typed, for grants made before the choice existed and for
#: callers that pass words only (the migration backfills with the same list).
_WORDS = {
    Relation.PARENT: ("parent",),
    Relation.MOTHER: ("mother", "mom", "mum", "mama", "madre"),
    Relation.FATHER: ("father", "dad", "papa", "padre"),
    Relation.CHILD: ("child", "kid"),
    Relation.DAUGHTER: ("daughter", "hija"),
    Relation.SON: ("son", "hijo"),
    Relation.SPOUSE: ("spouse", "wife", "husband", "esposa", "esposo"),
    Relation.PARTNER: ("partner",),
    Relation.SIBLING: ("sibling", "sister", "brother"),
    Relation.GRANDPARENT: ("grandparent", "grandmother", "grandfather", "grandma", "grandpa"),
    Relation.GRANDCHILD: ("grandchild", "granddaughter", "grandson"),
    Relation.OTHER_FAMILY: ("aunt", "uncle", "cousin", "niece", "nephew", "family"),
    Relation.FRIEND: ("friend",),
    Relation.NEIGHBOR: ("neighbor", "neighbour"),
    Relation.LEGAL_GUARDIAN: ("guardian", "legal guardian"),
}
_BY_WORD = {word: relation for relation, words in _WORDS.items() for word in words}


def relation_from_words(words: str | None) -> Relation:
    return _BY_WORD.get((words or "").strip().casefold(), Relation.OTHER)


def relation_label(row):
    """A grant's or invitation's relationship as a noun ("Madre"), or the patient's own words
    for "Other". Lazy: an email renders it in its recipient's language."""
    if Relation(row.relation) is Relation.OTHER:
        return row.relationship_label or RELATION_LABELS[Relation.OTHER]
    return RELATION_LABELS[Relation(row.relation)]


def relation_to(row, name: str) -> str:
    """Who the caregiver is to the patient named `name`: "Leo's mother" / "madre de Leo"."""
    relation = Relation(row.relation)
    if relation is Relation.OTHER:
        return _("%(name)s's %(words)s", name=name, words=row.relationship_label)
    return _OF_PATIENT[relation] % {"name": name}


def relation_of_mine(row) -> str:
    """On the caregiver's own pages: "You: mother" (the caregiver is the patient's ...)."""
    return _("You: %(relation)s", relation=relation_label(row))


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
