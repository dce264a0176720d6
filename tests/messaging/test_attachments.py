"""Photos and files on messages (issue 15, part 5): what is taken (by content, never by name),
how it is cleaned (no EXIF, no GPS, upright), who may fetch it (the thread's own rule, audited),
and inbound MMS pictures, fetched from Twilio the same way."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pillow_heif
import pytest
import sqlalchemy as sa
from PIL import Image

from app.auth.models import Role, User
from app.careplan.items.models import ItemKind
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.messaging import services
from app.messaging.attachments import Attachment, MediaFetch, storage
from app.messaging.models import Message, Thread, Topic
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add

JPEG_MAGIC = b"\xff\xd8\xff"
#: Fifteen (a teen: the guardian never sees a private thread), whenever the test runs.
TEEN_BIRTHDAY = date(datetime.now(UTC).year - 15, 1, 1)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


# ------------------------------------------------------------------ files made here


def jpeg(size=(64, 32), color=(200, 40, 40), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", **({"exif": exif} if exif else {}))
    return out.getvalue()


def png(size=(40, 40), alpha=True) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if alpha else "RGB", size, (0, 120, 200, 100) if alpha else (1, 2, 3)).save(
        out, "PNG"
    )
    return out.getvalue()


def gps_jpeg() -> bytes:
    """A 64 x 32 picture taken "on its side" (orientation 6) with a location in it."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (45.0, 31.0, 12.0)
    gps[3] = "W"
    gps[4] = (122.0, 40.0, 5.0)
    return jpeg(exif=exif.tobytes())


def heic() -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (48, 48), (10, 200, 10))).save(out, quality=80)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_WITH_JS = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /J#61vaScript /JS (app.alert(1)) >> "
    b">> endobj\n%%EOF\n"
)


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return (io.BytesIO(data), name, content_type)


# ------------------------------------------------------------------ the people


@pytest.fixture
def world(app, make_patient, make_member, assign, make_user, grant, make_org, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "files")
    app.extensions.pop("attachment_storage", None)
    org = make_org()
    maria = make_patient(given="María", family="López")
    nurse = make_member(org=org, name="Nina Patel")
    assign(maria, nurse)
    ana = make_user(Role.CAREGIVER, name="Ana Carter")
    grant(maria, ana, scopes=["messages", "plan"])
    jim = make_patient(given="Jim", family="Other")
    jims_nurse = make_member(org=org, name="Other Nurse")
    assign(jim, jims_nurse)
    teen = make_patient(given="Leo", family="Ruiz", dob=TEEN_BIRTHDAY)
    assign(teen, nurse)
    rosa = make_user(Role.CAREGIVER, name="Rosa Ruiz")
    grant(teen, rosa, scopes=["messages"], relationship_label="parent")
    return {
        "maria": maria,
        "jim": jim,
        "teen": teen,
        "org": org,
        "users": {
            "maria": db.session.get(User, maria.user_id),
            "nurse": db.session.get(User, nurse.user_id),
            "ana": ana,
            "jim": db.session.get(User, jim.user_id),
            "jims_nurse": db.session.get(User, jims_nurse.user_id),
            "teen": db.session.get(User, teen.user_id),
            "rosa": rosa,
        },
    }


def new_url(patient) -> str:
    return f"/patients/{patient.id}/messages/new"


def send(browser, patient, files, body="Mire mis tobillos", **extra):
    data = {"topic": "symptoms", "subject": "Tobillos", "body": body, "files": files, **extra}
    return browser.post(new_url(patient), data, content_type="multipart/form-data")


def rows() -> list[Attachment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Attachment).order_by(Attachment.id)))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def file_urls(page: str) -> list[str]:
    return sorted(set(re.findall(r"/patients/\d+/messages/\d+/attachments/\d+(?:/thumb)?", page)))


# ------------------------------------------------------------------ taking files


def test_maria_sends_a_photo_and_a_pdf_and_sees_them_on_the_thread(world, new_browser, tmp_path):
    maria = signed_in(new_browser, world["users"]["maria"])
    response = send(
        maria, world["maria"], [upload(jpeg()), upload(PDF, "lab.pdf", "application/pdf")]
    )
    assert response.status_code == 302
    url = response.headers["Location"]
    photo, pdf = rows()
    assert (photo.kind.value, photo.content_type, photo.position) == ("image", "image/jpeg", 1)
    assert (pdf.kind.value, pdf.content_type, pdf.thumb_key) == ("pdf", "application/pdf", None)
    assert len(photo.storage_key) == 40 and "lab" not in pdf.storage_key
    page = maria.page(url)
    assert 'alt="Photo 1 from María"' in page and "PDF 2 from María" in page
    assert "lab.pdf" not in page
    image = maria.get(f"{url}/attachments/{photo.id}")
    assert image.status_code == 200 and image.data.startswith(JPEG_MAGIC)
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Cache-Control"] == "no-store"  # the app's rule for every page
    assert image.headers["Content-Disposition"].startswith("inline;")
    thumb = maria.get(f"{url}/attachments/{photo.id}/thumb")
    assert thumb.status_code == 200 and thumb.data.startswith(JPEG_MAGIC)
    kept = maria.get(f"{url}/attachments/{pdf.id}")
    assert kept.data == PDF  # stored as sent
    assert kept.headers["Content-Disposition"] == f'attachment; filename="carecircle-{pdf.id}.pdf"'
    assert "sandbox" in kept.headers["Content-Security-Policy"]
    assert maria.get(f"{url}/attachments/{pdf.id}/thumb").status_code == 404
    # the team sees them too
    nurse = signed_in(new_browser, world["users"]["nurse"])
    assert file_urls(nurse.page(url)) == file_urls(page)
    assert nurse.get(f"{url}/attachments/{photo.id}").status_code == 200


def test_a_reply_carries_files_and_the_form_shows_the_limits(world, new_browser):
    thread = services.start_thread(
        patient_id=world["maria"].id,
        topic=Topic.SYMPTOMS,
        subject="s",
        body="b",
        author_id=world["users"]["maria"].id,
        capacity="patient",
    )
    db.session.commit()
    url = f"/patients/{world['maria'].id}/messages/{thread.id}"
    nurse = signed_in(new_browser, world["users"]["nurse"])
    page = nurse.page(url)
    assert 'accept="image/*,application/pdf"' in page and "multiple" in page
    assert "Add a photo" in page and "up to 3 photos or PDF files, up to 10 MB each" in page
    response = nurse.post(
        url,
        {"body": "Así se ve bien.", "files": [upload(png())]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (row,) = rows()
    assert row.content_type == "image/png"  # transparency kept: PNG, not JPEG
    assert nurse.get(f"{url}/attachments/{row.id}").data.startswith(b"\x89PNG")


def test_gps_and_exif_are_stripped_and_the_picture_is_turned_upright(world, new_browser):
    original = gps_jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's own check
    maria = signed_in(new_browser, world["users"]["maria"])
    url = send(maria, world["maria"], [upload(original)]).headers["Location"]
    (row,) = rows()
    data = maria.get(f"{url}/attachments/{row.id}").data
    assert data != original
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"PhoneMaker" not in data and b"GPS" not in data
    assert image.size == (32, 64) == (row.width, row.height)  # orientation 6 applied
    thumb = maria.get(f"{url}/attachments/{row.id}/thumb").data
    assert b"PhoneMaker" not in thumb and dict(Image.open(io.BytesIO(thumb)).getexif()) == {}


def test_heic_is_converted_to_jpeg(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    response = send(maria, world["maria"], [upload(heic(), "IMG_0001.HEIC", "image/heic")])
    assert response.status_code == 302
    (row,) = rows()
    assert row.content_type == "image/jpeg" and (row.width, row.height) == (48, 48)


def test_big_photos_are_scaled_down(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    send(maria, world["maria"], [upload(jpeg(size=(3000, 1500)))])
    (row,) = rows()
    assert (row.width, row.height) == (2048, 1024)


WRONG = {
    "text renamed .jpg": (upload(b"just some words, not a picture", "photo.jpg"), "not a photo"),
    "an EXE sent as image/jpeg": (upload(b"MZ\x90\x00" + b"\x00" * 200, "a.jpg"), "not a photo"),
    "a PNG claimed to be a PDF": (upload(png(), "scan.pdf", "application/pdf"), None),
    "a truncated JPEG": (upload(jpeg(size=(400, 400))[:300]), "could not be read"),
    "a PDF with JavaScript": (upload(PDF_WITH_JS, "a.pdf", "application/pdf"), "scripts"),
    "a GIF": (upload(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a.gif", "image/gif"), "not a photo"),
}


@pytest.mark.parametrize("case", [k for k in WRONG if WRONG[k][1]])
def test_wrong_files_are_refused_with_the_text_kept_and_nothing_written(
    world, new_browser, case, tmp_path
):
    maria = signed_in(new_browser, world["users"]["maria"])
    file, words = WRONG[case]
    response = send(maria, world["maria"], [upload(jpeg()), file], body="Mis tobillos, ¿ve?")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words in page and "File 2" in page
    assert "Mis tobillos, ¿ve?" in page  # the typed text is kept
    assert (count(Thread), count(Message), count(Attachment)) == (0, 0, 0)
    assert stored_files(tmp_path / "files") == []


def test_a_png_claimed_to_be_a_pdf_is_taken_as_the_picture_it_is(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    assert send(maria, world["maria"], [WRONG["a PNG claimed to be a PDF"][0]]).status_code == 302
    (row,) = rows()
    assert row.kind.value == "image" and row.content_type == "image/png"


def test_four_files_an_oversized_file_and_a_decompression_bomb_are_refused(
    world, new_browser, app, tmp_path
):
    maria = signed_in(new_browser, world["users"]["maria"])
    four = send(maria, world["maria"], [upload(jpeg()) for _ in range(4)])
    assert four.status_code == 422 and "at most 3 photos or files" in four.get_data(as_text=True)
    app.config["ATTACHMENT_MAX_BYTES"] = 2000
    big = send(
        maria, world["maria"], [upload(jpeg(size=(300, 300), color=(1, 2, 3)) + b"\x00" * 3000)]
    )
    assert big.status_code == 422 and "at most 2 KB" not in big.get_data(as_text=True)
    assert "File 1 is too large" in big.get_data(as_text=True)
    app.config["ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    # 20,000 x 20,000 pixels of one colour: a few hundred KB of PNG, 1.2 GB once opened
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")
    refused = send(maria, world["maria"], [upload(bomb.getvalue(), "b.png", "image/png")])
    assert refused.status_code == 422
    assert "too large to open" in refused.get_data(as_text=True)
    assert (count(Message), count(Attachment)) == (0, 0)
    assert stored_files(tmp_path / "files") == []


def test_a_body_over_the_upload_limit_is_a_friendly_413(world, new_browser, app):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    app.config["MAX_CONTENT_LENGTH"] = 1000
    maria = signed_in(new_browser, world["users"]["maria"])
    response = send(maria, world["maria"], [upload(b"x" * 6000)])
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Too large to send" in page and "up to 3 photos or PDF files" in page
    assert count(Message) == 0


def test_a_double_submit_stores_once(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    page = maria.page(new_url(world["maria"]))
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page)[1]
    first = send(maria, world["maria"], [upload(jpeg())], idempotency_key=key)
    again = send(maria, world["maria"], [upload(jpeg())], idempotency_key=key)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert (count(Message), count(Attachment)) == (1, 1)


def test_a_failed_request_deletes_the_files_it_wrote(world, app, tmp_path):
    """Written before the commit; a rollback takes them away again."""
    thread = services.start_thread(
        patient_id=world["maria"].id,
        topic=Topic.SYMPTOMS,
        subject="s",
        body="b",
        author_id=world["users"]["maria"].id,
        capacity="patient",
    )
    db.session.commit()
    from app.messaging.attachments.processing import process
    from app.messaging.attachments.services import store

    message = db.session.scalars(sa.select(Message)).one()
    store(message, [process(jpeg())])
    assert len(stored_files(tmp_path / "files")) == 2  # the photo and its thumbnail
    db.session.rollback()
    assert stored_files(tmp_path / "files") == []
    assert count(Attachment) == 0 and thread.id


def test_the_sweep_deletes_only_old_files_no_row_points_at(world, app, runner, tmp_path):
    store = storage.storage()
    store.put("a" * 40, b"orphan", "image/jpeg")
    message = services.start_thread(
        patient_id=world["maria"].id,
        topic=Topic.SYMPTOMS,
        subject="s",
        body="b",
        author_id=world["users"]["maria"].id,
        capacity="patient",
    )
    db.session.flush()
    from app.messaging.attachments.processing import process
    from app.messaging.attachments.services import store as keep

    keep(db.session.scalars(sa.select(Message)).one(), [process(jpeg())])
    db.session.commit()
    assert message.id
    result = runner.invoke(args=["messaging", "sweep-attachments", "--hours", "0"])
    assert "1 unused file(s) deleted." in result.output
    assert len(stored_files(tmp_path / "files")) == 2


# ------------------------------------------------------------------ who may fetch


def _thread_with_photo(world, new_browser, patient_key="maria", **extra):
    browser = signed_in(new_browser, world["users"][patient_key])
    response = send(browser, world[patient_key], [upload(jpeg())], **extra)
    assert response.status_code == 302
    (row,) = [r for r in rows() if r.patient_id == world[patient_key].id]
    return response.headers["Location"], row


def test_another_patients_ids_and_another_threads_file_are_404(world, new_browser):
    url, row = _thread_with_photo(world, new_browser)
    other = services.start_thread(
        patient_id=world["maria"].id,
        topic=Topic.OTHER,
        subject="s",
        body="b",
        author_id=world["users"]["maria"].id,
        capacity="patient",
    )
    db.session.commit()
    maria = signed_in(new_browser, world["users"]["maria"])
    assert maria.get(f"{url}/attachments/{row.id}").status_code == 200
    base = f"/patients/{world['maria'].id}/messages"
    assert maria.get(f"{base}/{other.id}/attachments/{row.id}").status_code == 404
    assert maria.get(f"{base}/{other.id}/attachments/{row.id}/thumb").status_code == 404
    assert maria.get(f"{url}/attachments/{row.id + 1}").status_code == 404
    assert maria.get(f"{url}/attachments/99999999999999999999").status_code == 404
    jim = signed_in(new_browser, world["users"]["jim"])
    assert jim.get(f"{url}/attachments/{row.id}").status_code == 404
    jims_base = f"/patients/{world['jim'].id}/messages/{row.thread_id}"
    assert jim.get(f"{jims_base}/attachments/{row.id}").status_code == 404
    jims_nurse = signed_in(new_browser, world["users"]["jims_nurse"])
    assert jims_nurse.get(f"{url}/attachments/{row.id}/thumb").status_code == 404


def test_a_caregiver_without_the_category_cannot_fetch_even_after_reclassification(
    world, new_browser
):
    item = add(world["maria"], world["org"], kind=ItemKind.MEDICATION, title="Metformin")
    ana = signed_in(new_browser, world["users"]["ana"])
    url = f"/patients/{world['maria'].id}/messages/new?item={item.id}"
    response = ana.post(
        url,
        {
            "topic": "medication",
            "subject": "s",
            "body": "¿Con comida?",
            "item": item.id,
            "files": [upload(jpeg())],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    thread_url = response.headers["Location"]
    (row,) = rows()
    assert ana.get(f"{thread_url}/attachments/{row.id}").status_code == 200
    item.sensitivity = Sensitivity.BEHAVIORAL_HEALTH
    db.session.commit()
    assert ana.get(f"{thread_url}/attachments/{row.id}").status_code == 404
    assert ana.get(f"{thread_url}/attachments/{row.id}/thumb").status_code == 404
    # and a thread about a hidden item from the start
    secret = add(
        world["maria"],
        world["org"],
        kind=ItemKind.MEDICATION,
        title="Sertraline",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    maria = signed_in(new_browser, world["users"]["maria"])
    response = maria.post(
        f"/patients/{world['maria'].id}/messages/new?item={secret.id}",
        {
            "topic": "medication",
            "subject": "s",
            "body": "x",
            "item": secret.id,
            "files": [upload(jpeg())],
        },
        content_type="multipart/form-data",
    )
    hidden_url = response.headers["Location"]
    hidden_row = rows()[-1]
    assert maria.get(f"{hidden_url}/attachments/{hidden_row.id}").status_code == 200
    assert ana.get(f"{hidden_url}/attachments/{hidden_row.id}").status_code == 404
    denied = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.resource == "messaging.attachment",
            AuditEvent.actor_id == world["users"]["ana"].id,
            AuditEvent.action == "view",
        )
    ).all()
    assert [e.resource_id for e in denied] == [str(row.id)]  # only the fetch that was allowed


def test_the_teens_private_thread_vs_the_guardian(world, new_browser):
    url, row = _thread_with_photo(world, new_browser, "teen", private="y")
    db.session.expire_all()
    assert db.session.get(Thread, row.thread_id).sensitivity is Sensitivity.CONFIDENTIAL
    rosa = signed_in(new_browser, world["users"]["rosa"])
    assert rosa.get(f"{url}/attachments/{row.id}").status_code == 404
    assert rosa.get(f"{url}/attachments/{row.id}/thumb").status_code == 404
    nurse = signed_in(new_browser, world["users"]["nurse"])
    assert nurse.get(f"{url}/attachments/{row.id}").status_code == 200


def test_each_fetch_is_audited_with_the_file(world, new_browser):
    url, row = _thread_with_photo(world, new_browser)
    nurse = signed_in(new_browser, world["users"]["nurse"])
    nurse.get(f"{url}/attachments/{row.id}")
    nurse.get(f"{url}/attachments/{row.id}/thumb")
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.resource == "messaging.attachment")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_id, e.resource_id) for e in events] == [
        ("create", world["users"]["maria"].id, str(row.id)),
        ("view", world["users"]["nurse"].id, str(row.id)),
        ("view", world["users"]["nurse"].id, str(row.id)),
    ]
    assert all(e.patient_id == world["maria"].id for e in events)


# ------------------------------------------------------------------ inbound MMS

MARIA_PHONE = "+15035550101"
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/{a}/Messages/{m}/Media/ME{n:032x}"


def mms(client, token, sid, urls, body=""):
    from twilio.request_validator import RequestValidator

    params = {
        "MessageSid": sid,
        "From": MARIA_PHONE,
        "To": "+15035550100",
        "Body": body,
        "NumMedia": str(len(urls)),
    }
    for i, url in enumerate(urls):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = "image/jpeg"
    signature = RequestValidator(token).compute_signature(
        "http://carecircle.test/sms/inbound", params
    )
    return client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def texting_maria(world):
    world["maria"].mobile_phone = MARIA_PHONE
    db.session.commit()
    return world


def test_an_mms_picture_is_fetched_cleaned_and_shown_like_an_upload(
    texting_maria, fake_twilio, app, new_browser
):
    world = texting_maria
    sid = "MM" + "1" * 32
    url = MEDIA.format(a=fake_twilio.account_sid, m=sid, n=0)
    fake_twilio.add_media(url, gps_jpeg())
    assert mms(app.test_client(), fake_twilio.auth_token, sid, [url], "Mire").status_code == 200
    (row,) = rows()
    message = db.session.get(Message, row.message_id)
    assert message.body == "Mire" and message.attachments is None  # no Twilio link kept
    assert count(MediaFetch) == 0
    thread_url = f"/patients/{world['maria'].id}/messages/{row.thread_id}"
    maria = signed_in(new_browser, world["users"]["maria"])
    assert 'alt="Photo 1 from María"' in maria.page(thread_url)
    data = maria.get(f"{thread_url}/attachments/{row.id}").data
    assert b"PhoneMaker" not in data and Image.open(io.BytesIO(data)).size == (32, 64)
    assert "api.twilio.com" not in signed_in(new_browser, world["users"]["nurse"]).page(thread_url)


def test_a_failed_media_download_keeps_the_text_and_is_retried(
    texting_maria, fake_twilio, app, runner
):
    sid = "MM" + "2" * 32
    urls = [MEDIA.format(a=fake_twilio.account_sid, m=sid, n=n) for n in range(2)]
    # Twilio does not hand the pictures over yet (a 404 here)
    response = mms(app.test_client(), fake_twilio.auth_token, sid, urls)
    assert response.status_code == 200 and "got your message" in response.get_data(as_text=True)
    assert (count(Message), count(Attachment), count(MediaFetch)) == (1, 0, 2)
    fake_twilio.add_media(urls[0], jpeg())
    fake_twilio.add_media(urls[1], b"not a picture at all")
    result = runner.invoke(args=["messaging", "fetch-media"])
    assert "2 picture(s) fetched, 0 still waiting." in result.output
    (row,) = rows()  # the one that is no picture is dropped, not retried for ever
    assert row.position == 1 and count(MediaFetch) == 0
    # Twilio was asked with the account's credentials (the fake answers 401 otherwise)
    served = [r for r in fake_twilio.received if r.outcome == "media"]
    assert len(served) == 2 and sorted(fake_twilio.media_requests.values()) == [1, 2]


def test_stop_is_answered_even_when_twilio_media_is_unreachable(texting_maria, app):
    from app.texting.models import PhoneOptOut

    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
    app.config["TWILIO_AUTH_TOKEN"] = "tok-0123456789"
    response = mms(
        app.test_client(),
        "tok-0123456789",
        "MM" + "3" * 32,
        [MEDIA.format(a="AC" + "0" * 32, m="MM" + "3" * 32, n=0)],
        "STOP",
    )
    assert response.status_code == 200 and "no more texts" in response.get_data(as_text=True)
    assert (count(PhoneOptOut), count(Message), count(MediaFetch)) == (1, 0, 0)


def test_a_caregiver_without_messages_sees_no_mms_picture(
    texting_maria, fake_twilio, app, new_browser, make_user, grant
):
    world = texting_maria
    bo = make_user(Role.CAREGIVER, name="Bo Plan")
    grant(world["maria"], bo, scopes=["plan"])
    sid = "MM" + "4" * 32
    url = MEDIA.format(a=fake_twilio.account_sid, m=sid, n=0)
    fake_twilio.add_media(url, jpeg())
    mms(app.test_client(), fake_twilio.auth_token, sid, [url])
    (row,) = rows()
    thread_url = f"/patients/{world['maria'].id}/messages/{row.thread_id}"
    assert signed_in(new_browser, bo).get(f"{thread_url}/attachments/{row.id}").status_code == 404


# ------------------------------------------------------------------ the S3 store


def test_the_s3_store_against_a_local_s3_server(world, app, new_browser, monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="cc-files")
        app.config.update(
            ATTACHMENT_STORAGE="s3",
            ATTACHMENT_S3_BUCKET="cc-files",
            ATTACHMENT_S3_ENDPOINT_URL=endpoint,
        )
        app.extensions.pop("attachment_storage", None)
        maria = signed_in(new_browser, world["users"]["maria"])
        url = send(maria, world["maria"], [upload(gps_jpeg())]).headers["Location"]
        (row,) = rows()
        listed = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket="cc-files")
        assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
            [row.storage_key, row.thumb_key]
        )
        data = maria.get(f"{url}/attachments/{row.id}").data
        assert data.startswith(JPEG_MAGIC) and b"PhoneMaker" not in data
        s3 = storage.storage()
        s3.put("b" * 40, b"x", "image/jpeg")
        assert {k for k, _ in s3.listing()} == {row.storage_key, row.thumb_key, "b" * 40}
        s3.delete("b" * 40)
        assert "b" * 40 not in {k for k, _ in s3.listing()}
    finally:
        app.extensions.pop("attachment_storage", None)
        server.stop()
