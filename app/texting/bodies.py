"""The words of every reminder text, per purpose, in the recipient's language.

Discreet by default: a text says that something is due or waiting, never what (no diagnosis,
medicine, clinic or test), because a lock screen is public. Only the patient's own texts name
things, and only if they chose detailed texts. Caregivers' texts name the patient (so a parent
of two knows which child) and nothing more. Detailed texts shorten the named thing so the text
stays one SMS segment (160 GSM-7 characters; 70 when the language needs other characters).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")


def segments(body: str) -> int:
    """How many SMS segments `body` takes (GSM-7 if every character allows, else UCS-2)."""
    if all(c in GSM7 or c in GSM7_EXTENDED for c in body):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in body)
        return 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)
    return 1 if units <= 70 else -(-units // 67)


def _fit(render, name: str, shortest: int = 12) -> str:
    """render(name), with `name` cut short (ending in "...") until the text is one segment."""
    body = render(name)
    cut = len(name)
    while segments(body) > 1 and cut > shortest:
        cut -= 4
        body = render(name[:cut].rstrip() + "...")
    return body


def when_text(starts_at: datetime, zone: str, locale: str) -> str:
    return format_datetime(
        starts_at.astimezone(ZoneInfo(zone)),
        "EEE MMM d, h:mm a" if locale == "en" else "EEE d MMM, HH:mm",
    )


def appointment(
    *, locale: str, link: str, when_at: datetime, zone: str, detailed: bool, title: str = ""
) -> str:
    with force_locale(locale):
        when = when_text(when_at, zone, locale)
        if detailed:
            return _fit(
                lambda name: _(
                    "CareCircle: %(title)s, %(when)s. Reply C to confirm, R to change. %(link)s",
                    title=name,
                    when=when,
                    link=link,
                ),
                title,
            )
        return _(
            "CareCircle: you have an appointment %(when)s. Reply C to confirm, R to "
            "change. %(link)s",
            when=when,
            link=link,
        )


def medication(*, locale: str, link: str, detailed: bool, medicine: str = "") -> str:
    with force_locale(locale):
        if detailed:
            return _fit(
                lambda name: _(
                    "CareCircle: time to take %(medicine)s. %(link)s", medicine=name, link=link
                ),
                medicine,
            )
        return _("CareCircle: a reminder from your care plan. %(link)s", link=link)


def task(*, locale: str, link: str, detailed: bool, title: str = "") -> str:
    with force_locale(locale):
        if detailed:
            return _fit(
                lambda name: _("CareCircle: reminder: %(task)s. %(link)s", task=name, link=link),
                title,
            )
        return _("CareCircle: a reminder from your care plan. %(link)s", link=link)


def goal(*, locale: str, link: str, detailed: bool, goal: str = "") -> str:
    with force_locale(locale):
        if detailed:
            return _fit(
                lambda name: _(
                    'CareCircle: how is "%(goal)s" going? Check in here: %(link)s',
                    goal=name,
                    link=link,
                ),
                goal,
            )
        return _("CareCircle: time for a check-in on your goal. %(link)s", link=link)


def for_caregiver(
    *, locale: str, link: str, name: str, when_at: datetime | None = None, zone: str = "UTC"
) -> str:
    """What a caregiver gets: whose reminder it is, and when an appointment is."""
    with force_locale(locale):
        if when_at is not None:
            return _(
                "CareCircle: %(name)s has an appointment %(when)s. %(link)s",
                name=name,
                when=when_text(when_at, zone, locale),
                link=link,
            )
        return _(
            "CareCircle: a reminder for %(name)s from their care plan. %(link)s",
            name=name,
            link=link,
        )


def team_replied(*, locale: str, link: str) -> str:
    with force_locale(locale):
        return _("CareCircle: your care team sent you a message. Read it here: %(link)s", link=link)


def number_changed(*, locale: str, help_phone: str) -> str:
    """To the old number when the patient's number is replaced: it says so, never the new one."""
    with force_locale(locale):
        return _(
            "CareCircle: the mobile number on your record was changed. If you did not ask for "
            "this, call %(phone)s.",
            phone=help_phone,
        )


def code(*, locale: str, code: str, minutes: int) -> str:
    """A one-time code (a new phone number, an invitation accepted): the code and nothing else."""
    with force_locale(locale):
        return _(
            "CareCircle: your code is %(code)s. It works for %(minutes)d minutes.",
            code=code,
            minutes=minutes,
        )
