"""Photos and files on messages (issue 15, part 5): placeholder seams, filled by that part.

`AttachmentFields` is mixed into the forms that post a message; `attach` and
`attach_to_first` store what was uploaded with the message just written.
"""

from __future__ import annotations


class AttachmentFields:
    """Mixin for the forms that post a message: the file inputs."""


def attach(message, form) -> None:
    """Store the files `form` carries with `message` (nothing yet)."""


def attach_to_first(thread, form) -> None:
    """Store the files `form` carries with the first message of a new `thread` (nothing yet)."""
