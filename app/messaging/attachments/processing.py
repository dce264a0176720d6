"""What an uploaded or texted file really is, decided by its content (never its name or the
type a browser or phone claims), and the clean copy that is stored.

Images are opened with Pillow (HEIC through pillow-heif), checked (`verify`, then opened again),
turned upright (EXIF orientation) and re-encoded from their pixels alone: the stored JPEG (or PNG
when the picture has transparency) carries no EXIF, GPS, XMP or comment of the original. A
picture of more than MAX_PIXELS is refused before its pixels are decoded (a decompression bomb).
PDFs are recognised by their `%PDF-` header and stored as they are, unless a cheap look finds
JavaScript or a launch action in them.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

#: The formats taken (as Pillow names them); anything else is refused.
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "HEIF"})
#: Larger pictures are refused before decoding: 40 megapixels is more than any phone takes.
MAX_PIXELS = 40_000_000
#: The stored picture fits in this square; the thumbnail in the smaller one.
FULL_SIZE = 2048
THUMB_SIZE = 320
JPEG_QUALITY = 85
#: PDF names that run something when the file is opened. Names may hide a letter as #xx.
PDF_NAME = re.compile(rb"/([A-Za-z0-9#]{2,24})")
PDF_ACTIVE = frozenset({b"JS", b"JavaScript", b"Launch", b"EmbeddedFile"})


class Refused(Exception):
    """The file is not one we take; `message` says why, in the user's words."""

    def __init__(self, message) -> None:
        super().__init__("refused")
        self.message = message


@dataclass(frozen=True)
class Processed:
    """A clean file, ready to store."""

    kind: str  # "image" or "pdf"
    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None
    thumb: bytes | None = None
    thumb_type: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


NOT_TAKEN = _l("This is not a photo (JPEG, PNG or HEIC) or a PDF.")
DAMAGED = _l("This file could not be read. It may be damaged.")
TOO_MANY_PIXELS = _l("This picture is too large to open. Send a smaller photo.")
ACTIVE_PDF = _l("This PDF has scripts in it, so we cannot take it. Send a photo of it instead.")


def process(data: bytes) -> Processed:
    """The clean copy of `data`, or Refused."""
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    return _image(data)


def _pdf(data: bytes) -> Processed:
    for match in PDF_NAME.finditer(data):
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), match[1])
        if name in PDF_ACTIVE:
            raise Refused(ACTIVE_PDF)
    if b"%%EOF" not in data[-1024:]:
        raise Refused(DAMAGED)  # cut short on the way
    return Processed(kind="pdf", content_type="application/pdf", data=data)


def _image(data: bytes) -> Processed:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in IMAGE_FORMATS:
                    raise Refused(NOT_TAKEN)
                if probe.width * probe.height > MAX_PIXELS:
                    raise Refused(TOO_MANY_PIXELS)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
        except Refused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused(TOO_MANY_PIXELS) from None
        except UnidentifiedImageError:
            raise Refused(NOT_TAKEN) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise Refused(DAMAGED) from None
    transparent = _has_transparency(upright)
    mode = "RGBA" if transparent else "RGB"
    # Only the pixels go on: a new image has no EXIF, GPS, XMP, ICC or comment to carry over.
    pixels = upright.convert(mode)
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    clean.thumbnail((FULL_SIZE, FULL_SIZE), Image.Resampling.LANCZOS)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    content_type = "image/png" if transparent else "image/jpeg"
    return Processed(
        kind="image",
        content_type=content_type,
        data=_encode(clean, transparent),
        width=clean.width,
        height=clean.height,
        thumb=_encode(thumb, transparent),
        thumb_type=content_type,
    )


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
        return alpha.getextrema()[0] < 255
    return False


def _encode(image: Image.Image, transparent: bool) -> bytes:
    out = io.BytesIO()
    if transparent:
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
