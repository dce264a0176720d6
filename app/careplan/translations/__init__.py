"""Care content written by people, in the reader's language (issue 16, scope 4).

Plan items, goals and decisions (with their options) are stored with the language they were
written in (`content_language`). A team member who may edit the plan adds a translation for the
patient's or a caregiver's language (`services`); every page shows the reader the version in
their interface language, marked "Translated by your care team", with the original one tap away
(`reading`). A translation remembers a digest of each original field it was made from: an edit
of the original marks it out of date without any hook in the services that edit. The staff
summary lists what is not yet translated for the people who read the record (`worklist`).
"""

from app.careplan.translations import models, reading  # noqa: F401  (the table; templates)


def import_views() -> None:
    from app.careplan.translations import views  # noqa: F401  (routes on careplan.bp)
