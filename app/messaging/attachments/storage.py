"""Where attachment files live: outside the web root, under random keys.

ATTACHMENT_STORAGE=local (default) keeps them in ATTACHMENT_DIR (<instance>/attachments);
ATTACHMENT_STORAGE=s3 in ATTACHMENT_S3_BUCKET of any S3-style store (boto3, the `s3` extra;
ATTACHMENT_S3_ENDPOINT_URL for one that is not AWS; credentials from the environment as boto3
reads them). A key is random (160 bits) and says nothing about the patient or the file.

Files are written before the request commits. Those written by a transaction that rolls back are
deleted at once (`track`); a process killed in between leaves files no row points at, which
`flask messaging sweep-attachments` deletes once they are a day old.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def new_key() -> str:
    return secrets.token_hex(20)


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("not a storage key")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.chmod(partial, 0o600)
        partial.replace(path)  # whole or not at all

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def listing(self) -> Iterator[tuple[str, float]]:
        """(key, when it was written, as a Unix time) of every stored file."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*"):
            if path.is_file() and path.name.isalnum():
                yield path.name, path.stat().st_mtime


class S3Storage:
    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "") -> None:
        import boto3  # the `s3` extra: only a deployment that stores there needs it

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def listing(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :], item["LastModified"].timestamp()


def storage():
    """The app's store, made once per app from its configuration."""
    app = current_app._get_current_object()
    store = app.extensions.get("attachment_storage")
    if store is None:
        kind = app.config["ATTACHMENT_STORAGE"]
        if kind == "s3":
            store = S3Storage(
                app.config["ATTACHMENT_S3_BUCKET"], app.config["ATTACHMENT_S3_ENDPOINT_URL"]
            )
        elif kind == "local":
            store = LocalStorage(
                app.config["ATTACHMENT_DIR"] or Path(app.instance_path) / "attachments"
            )
        else:
            raise RuntimeError(f"Unknown ATTACHMENT_STORAGE {kind!r}; use local or s3")
        app.extensions["attachment_storage"] = store
    return store


WRITTEN = "attachment_keys_written"


def put(session: Session, data: bytes, content_type: str) -> str:
    """Store `data` under a new key, to be deleted again if `session` rolls back."""
    key = new_key()
    store = storage()
    store.put(key, data, content_type)
    session.info.setdefault(WRITTEN, []).append((store, key))
    return key


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    session.info.pop(WRITTEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _undo(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint: the outer one decides
        return
    for store, key in session.info.pop(WRITTEN, []):
        try:
            store.delete(key)
        except Exception:  # the sweep deletes it later
            log.warning("could not delete an attachment of a rolled-back request")


def sweep(known_keys, *, older_than_seconds: int = 86400) -> int:
    """Delete stored files no row points at, written more than `older_than_seconds` ago (so a
    request still on its way is never swept). `known_keys(keys)` answers which exist."""
    store = storage()
    cutoff = time.time() - older_than_seconds
    old = [key for key, written in store.listing() if written < cutoff]
    removed = 0
    for start in range(0, len(old), 500):
        batch = old[start : start + 500]
        kept = known_keys(batch)
        for key in batch:
            if key not in kept:
                store.delete(key)
                removed += 1
    return removed
