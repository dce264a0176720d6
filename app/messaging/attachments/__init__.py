"""Photos and files on messages (issue 15, part 5).

Up to three photos (JPEG, PNG, HEIC) or PDFs per message, checked by their content and cleaned
(processing.py), kept outside the web root (storage.py), served only through the access policy
and the thread's visibility (views.py). Inbound MMS pictures take the same way (services.py).

`AttachmentFields` is mixed into the forms that post a message; `attach` and `attach_to_first`
store what the form carried with the message just written.
"""

from app.messaging.attachments.forms import AttachmentFields
from app.messaging.attachments.models import Attachment, AttachmentKind, MediaFetch
from app.messaging.attachments.services import attach, attach_to_first

__all__ = [
    "Attachment",
    "AttachmentFields",
    "AttachmentKind",
    "MediaFetch",
    "attach",
    "attach_to_first",
]
