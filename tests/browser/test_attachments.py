"""Photos in messages on a 360 x 740 phone: María sends a photo to her team and sees it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.browser.test_mobile import check_page

pytestmark = pytest.mark.browser


def photo(tmp_path):
    path = tmp_path / "IMG_2041.jpg"
    Image.new("RGB", (1200, 900), (180, 90, 60)).save(path, "JPEG")
    return path


def test_maria_sends_a_photo_and_sees_its_thumbnail(phone, live_server, login, tmp_path):
    from app.patients.models import Patient

    with live_server.app.app_context():
        from app.extensions import db

        pid = db.session.scalar(sa.select(Patient.id).where(Patient.given_name == "María"))
    login(phone, "maria@demo.carecircle.test")
    new = f"{live_server}/patients/{pid}/messages/new"
    check_page(phone, new)
    add = phone.locator("label.attach-button")
    box = add.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # a thumb-sized tap
    phone.select_option("#topic", "symptoms")
    phone.fill("#body", "Así se ven mis tobillos hoy.")
    phone.click(".compose-subject summary")  # the subject is optional, folded away
    phone.fill("#subject", "Tobillos")
    phone.set_input_files("#files", str(photo(tmp_path)))
    phone.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    phone.wait_for_load_state()
    assert "/messages/" in phone.url and not phone.url.endswith("/new"), phone.url
    thumb = phone.locator(".attachment-thumb img").last
    thumb.wait_for()
    assert thumb.get_attribute("alt") in ("Photo 1 from María", "Foto 1 de María")
    assert (
        phone.evaluate("(img) => img.complete && img.naturalWidth", thumb.element_handle()) == 320
    )
    assert "IMG_2041" not in phone.content()
    check_page(phone, phone.url)
