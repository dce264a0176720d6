"""`flask fhir import FILE_OR_DIR` and `flask clients ...` (helpers E and F fill this in)."""

from flask import Flask


def register(app: Flask) -> None:
    pass
