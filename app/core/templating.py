"""Template globals: the language switcher, dates in the viewer's language and time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from babel.dates import (
    format_skeleton,
    get_datetime_format,
    get_timezone_location,
    get_timezone_name,
)
from flask import Flask, current_app, g, request, url_for
from flask_babel import (
    format_date,
    format_datetime,
    format_time,
    get_locale,
    get_translations,
    to_user_timezone,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from app.core import display
from app.core.access import Permission, can
from app.core.assets import stylesheets
from app.core.forms import EmptyForm
from app.core.icons import icon
from app.core.privacy import Capacity, current_actor

URL_RE = re.compile(r"https?://[^\s<>\"']+")

#: The sections of one patient's record (macros/record_nav.html), in order, with the
#: permission that opens each.
RECORD_SECTIONS = (
    ("summary", "patients.summary", _l("Summary"), Permission.VIEW_SUMMARY),
    ("today", "careplan.items.today", _l("Today"), Permission.VIEW_PLAN),
    ("plan", "careplan.items.plan", _l("Plan"), Permission.VIEW_PLAN),
    ("goals", "careplan.goals.list", _l("Goals"), Permission.VIEW_GOALS),
    ("decisions", "careplan.decisions.list", _l("Decisions"), Permission.VIEW_DECISIONS),
    ("messages", "messaging.threads", _l("Messages"), Permission.VIEW_MESSAGES),
    ("changes", "careplan.changes", _l("What changed"), Permission.VIEW_PLAN),
    ("preferences", "patients.preferences", _l("Preferences"), Permission.VIEW_SUMMARY),
    ("caregivers", "caregivers.helpers", _l("People who help"), Permission.VIEW_CAREGIVERS),
)


def record_sections(patient) -> list[tuple[str, str, str]]:
    """(key, url, label) of each section of this record the viewer may open. One loop in
    Python rather than nine policy calls and nine url_for calls in Jinja on every page."""
    user = current_user._get_current_object()
    return [
        (key, url_for(endpoint, patient_id=patient.id), str(label))
        for key, endpoint, label, permission in RECORD_SECTIONS
        if can(user, permission, patient)
    ]


def _viewer_today() -> date:
    return to_user_timezone(datetime.now(UTC)).date()


def relative_day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    offset = (value - _viewer_today()).days
    if offset == 0:
        return str(_l("Today"))
    if offset == 1:
        return str(_l("Tomorrow"))
    if offset == -1:
        return str(_l("Yesterday"))
    skeleton = "MMMEd" if value.year == _viewer_today().year else "yMMMEd"
    return format_skeleton(skeleton, value, locale=get_locale())


def when(value: datetime) -> str:
    """A day and a time without seconds: "Today, 10:00 AM"."""
    return str(_l("%(day)s, %(time)s", day=relative_day(value), time=format_time(value, "short")))


def zone_name(zone: str) -> str:
    """A time zone in the reader's language: "Pacific Time (Los Angeles)", "hora del Pacífico
    (Los Ángeles)"; the city tells apart zones with one generic name (Denver and Phoenix)."""
    locale = get_locale() or "en"
    try:
        generic = get_timezone_name(zone, "long", locale=locale, zone_variant="generic")
        city = get_timezone_location(zone, locale=locale, return_city=True)
    except (LookupError, ValueError):
        return zone.replace("_", " ")
    return f"{generic} ({city})"


def _translations():
    """The request's catalog for template strings, looked up once per request and locale.

    flask-babel finds the catalog anew for every `{% trans %}` (several context lookups each
    time). It is kept on `g` with the locale it is for: `force_locale` (an email rendered in
    its recipient's language) sets another locale object, which misses this and asks
    flask-babel again."""
    if not g:  # no app context: flask-babel's null catalog
        return get_translations()
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    cached = g.get("_cc_translations")
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    if locale is not None:
        g._cc_translations = (locale, translations)
    return translations


def install_gettext(app: Flask) -> None:
    """Template gettext through `_translations` (same catalogs and plural rules)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def reads_right_to_left() -> bool:
    return get_locale().character_order == "right-to-left"


def isolate(value: str | None, direction: str | None = None) -> str:
    """Someone's words (a name, a phone number) inside a right-to-left sentence, kept from
    reordering it: "(503) 555-0102" stays that way round, "Acting for Jim" keeps the name at
    the sentence's end. `<bdi>` in Arabic pages; as it was in left-to-right ones, where Latin
    names and numbers sit in their own direction already."""
    if not value:
        return value or ""
    if not reads_right_to_left():
        return value
    if direction:
        return Markup('<bdi dir="{}">{}</bdi>').format(direction, value)
    return Markup("<bdi>{}</bdi>").format(value)


def register(app: Flask) -> None:
    # Globals (unlike context processors) are visible inside imported macros too.
    app.jinja_env.globals.update(
        can=can,
        Permission=Permission,
        current_user=current_user,
        record_sections=record_sections,
        icon=icon,
        stylesheets=stylesheets,
    )
    install_gettext(app)
    display.register(app)  # display_attrs() for <html>, display_settings() for the controls

    @app.context_processor
    def globals_():
        actor = current_actor()
        return {
            "language_next": lambda: request.full_path.rstrip("?"),
            "empty_form": EmptyForm,
            "can": can,
            "Permission": Permission,
            "languages": current_app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
            # Arabic reads right to left: <html dir> mirrors the layout (the CSS uses logical
            # properties) and the icons that point (icons.DIRECTIONAL).
            "text_direction": "rtl" if reads_right_to_left() else "ltr",
            "record_patient": actor.patient,
            "acting_for": actor.acting_for,
            # The patient reads their own record: copy says "you"; anyone else reads it in the
            # third person ("Jim's medicines", "Who: Jim").
            "self_view": actor.capacity is Capacity.PATIENT,
            "cco_name": current_app.config["CCO_NAME"],
        }

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, "medium" if fmt == "medium" else fmt)
        return format_date(value, fmt)

    @app.template_filter("datetime")
    def _datetime(value: datetime | None, fmt: str = "medium") -> str:
        """ "Today, 10:00 AM", "Thu, Dec 3, 9:30 AM" (no seconds) for the short and medium
        formats, in the viewer's time zone and language; "long"/"full" as Babel writes them."""
        if not value:
            return ""
        if fmt in ("short", "medium"):
            return when(value)
        # Babel's long/full times carry seconds and the zone's name ("8:00:00 PM Pacific
        # Standard Time"): the date as written in full, the time without seconds.
        pattern = get_datetime_format(fmt, locale=get_locale())
        return pattern.replace("{1}", format_date(value, fmt)).replace(
            "{0}", format_time(value, "short")
        )

    app.add_template_filter(zone_name, "zone")

    @app.template_filter("day")
    def _day(value: date | datetime | None) -> str:
        """ "Today", "Tomorrow", "Yesterday" or "Thu, Dec 3" (with the year when not this
        year), in the viewer's language; a datetime is read in the viewer's time zone."""
        return relative_day(value) if value else ""

    @app.template_filter("time")
    def _time(value: datetime | None, fmt: str = "short") -> str:
        return format_time(value, fmt) if value else ""

    @app.template_filter("linkify")
    def _linkify(text: str | None) -> Markup:
        """Escape a plain-text message, then make http(s) links clickable (and nothing else)."""
        escaped = str(escape(text or ""))

        def anchor(match: re.Match) -> str:
            url = match.group(0)
            trail = ""
            while url and url[-1] in ".,;:!?)":
                url, trail = url[:-1], url[-1] + trail
            return (
                f'<a href="{url}" rel="noopener noreferrer nofollow" '
                f'class="inline-tap">{url}</a>{trail}'
            )

        return Markup(URL_RE.sub(anchor, escaped))  # noqa: S704 - built from escaped text

    @app.template_filter("phone")
    def _phone(value: str | None) -> str:
        if not value:
            return ""
        import phonenumbers

        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return isolate(value, "ltr")
        return isolate(
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL), "ltr"
        )

    app.add_template_filter(isolate, "bdi")
