"""What the system itself names is shown in the reader's language: the language of care and
the time zone (issue 16), not codes or English names."""

from __future__ import annotations

import pytest

from app.auth.models import User
from app.extensions import db
from tests.fixtures.browser import signed_in


@pytest.mark.parametrize(
    ("locale", "language", "zone"),
    [
        ("en", "English", "Pacific Time (Los Angeles)"),
        ("es", "Inglés", "hora del Pacífico (Los Ángeles)"),
        ("vi", "Tiếng Anh", "Giờ Thái Bình Dương (Los Angeles)"),
    ],
)
def test_my_details_name_the_language_and_the_time_zone_in_the_readers_language(
    make_patient, new_browser, locale, language, zone
):
    patient = make_patient(language="en", timezone="America/Los_Angeles")
    user = db.session.get(User, patient.user_id)
    user.locale = locale
    db.session.commit()
    page = signed_in(new_browser, user).get(f"/patients/{patient.id}").get_data(as_text=True)
    assert zone in page and "America/Los" not in page
    assert f"<dd>{language}" in page


def test_the_time_zone_choices_tell_denver_from_phoenix(make_patient, new_browser):
    patient = make_patient(timezone="America/Denver")
    user = db.session.get(User, patient.user_id)
    user.locale = "es"
    db.session.commit()
    page = signed_in(new_browser, user).get(f"/patients/{patient.id}/profile")
    select = page.get_data(as_text=True).split('name="timezone"')[1].split("</select>")[0]
    # Both are "hora de las Montañas Rocosas": the city tells them apart; no zone ids shown.
    assert "(Denver)" in select and "(Phoenix)" in select
    assert ">America/" not in select
