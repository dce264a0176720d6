"""The file input of the forms that post a message: checked, and cleaned, as the form is."""

from __future__ import annotations

from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import MultipleFileField, ValidationError

from app.messaging.attachments.processing import Processed, Refused, process

#: Files on one message.
MAX_FILES = 3


def size_label(limit: int) -> str:
    """10485760 -> "10 MB" (in the user's language's digits)."""
    return _("%(size)s MB", size=format_decimal(round(limit / (1024 * 1024), 1)))


def _check_files(form, field) -> None:
    """Each file is read (at most the limit and one byte), checked by its content and cleaned
    now: a message is only written when all of its files can be."""
    uploads = [f for f in (field.data or []) if f and (f.filename or f.content_length)]
    if len(uploads) > MAX_FILES:
        raise ValidationError(
            ngettext(
                "Choose at most %(num)d photo or file.",
                "Choose at most %(num)d photos or files.",
                MAX_FILES,
            )
        )
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    cleaned: list[Processed] = []
    for number, upload in enumerate(uploads, start=1):
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise ValidationError(
                _(
                    "File %(number)d is too large: each photo or file can be at most %(size)s.",
                    number=number,
                    size=size_label(limit),
                )
            )
        if not data:
            raise ValidationError(_("File %(number)d is empty.", number=number))
        try:
            cleaned.append(process(data))
        except Refused as refused:
            raise ValidationError(
                _("File %(number)d: %(reason)s", number=number, reason=refused.message)
            ) from None
    form.cleaned_files = cleaned


class AttachmentFields:
    """Mixin for the forms that post a message: up to MAX_FILES photos or PDFs."""

    cleaned_files: list[Processed] = []

    files = MultipleFileField(
        _l("Add photos or files"),
        validators=[_check_files],
        render_kw={"accept": "image/*,application/pdf"},
    )

    def attachment_help(self) -> str:
        """The limits, under the input."""
        return ngettext(
            "You can add %(num)d photo or PDF file, up to %(size)s.",
            "You can add up to %(num)d photos or PDF files, up to %(size)s each.",
            MAX_FILES,
            size=size_label(current_app.config["ATTACHMENT_MAX_BYTES"]),
        )
