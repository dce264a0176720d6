"""WTForms' own error messages ("This field is required.") in CareCircle's catalogs.

WTForms ships translations for some languages only (none for Vietnamese or Somali), so a field
left empty answered in English there. Every form now looks its built-in messages up in our
catalogs first (all shipped languages, and the pseudo-locale marks them), then in WTForms' own.
"""

from __future__ import annotations

from flask_babel import get_translations, gettext, ngettext
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations


def _for_extraction() -> None:  # pragma: no cover - never called: lists the messages for pybabel
    gettext("This field is required.")
    gettext("Not a valid choice.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Not a valid integer value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid float value.")
    gettext("Not a valid date value.")
    gettext("Not a valid time value.")
    gettext("Not a valid datetime value.")
    gettext("Invalid email address.")
    gettext("Invalid input.")
    gettext("Invalid URL.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Field must be between %(min)d and %(max)d characters long.")
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    )
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )
    ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    )


class CatalogTranslations:
    """What WTForms calls to translate its messages: ours, else WTForms' own. WTForms fills in
    the placeholders itself, so nothing is formatted here."""

    def gettext(self, string: str) -> str:
        found = get_translations().ugettext(string)
        return found if found != string else wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = get_translations().ungettext(singular, plural, n)
        if found in (singular, plural):
            return wtforms_translations.ngettext(singular, plural, n)
        return found


CATALOG = CatalogTranslations()


def _translations(meta, form) -> CatalogTranslations:
    return CATALOG


def install() -> None:
    """Every form of the app (all are FlaskForms) translates WTForms' messages through ours."""
    FlaskForm.Meta.get_translations = _translations
