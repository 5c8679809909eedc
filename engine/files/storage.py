"""Where file bytes live: a content-addressed store with three operations, so a hall can swap the local directory
for an S3-compatible object store (put/get/exists map one-to-one onto PutObject/GetObject/HeadObject with the
SHA-256 as the key) without touching anything else.

The default is a directory under var/ (`ONEWINDOW_FILES` moves it): `ab/cd/<sha256>`, written to a temporary
name and renamed, so a reader never sees half a file and two writers of the same content agree.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class FileStorage(Protocol):
    def put(self, sha256: str, content: bytes) -> None: ...

    def get(self, sha256: str) -> bytes | None: ...

    def exists(self, sha256: str) -> bool: ...


class LocalStorage:
    """Files in a directory tree named by their SHA-256."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, content: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{sha256}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)

    def get(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def exists(self, sha256: str) -> bool:
        try:
            return self._path(sha256).exists()
        except ValueError:
            return False


def default_storage() -> FileStorage:
    """The configured store: `ONEWINDOW_FILES` (a directory), else var/files beside the default database."""
    from ..db import ROOT

    root = os.environ.get("ONEWINDOW_FILES") or Path(os.environ.get("ONEWINDOW_VAR", ROOT / "var")) / "files"
    return LocalStorage(root)
