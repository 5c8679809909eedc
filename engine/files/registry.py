"""The file registry: one row per distinct content (its SHA-256, size, sniffed type and the name it came with),
the bytes in the storage. A case never stores a file, only its hash — in the submission that handed it in, so the
hash chain covers it and `audit verify` can check the stored bytes still hash to it."""
from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow
from ..errors import Invalid, NotFound, TooLarge
from ..messages import Message
from .kinds import ACCEPTED, sniff
from .storage import FileStorage, default_storage

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PER_MATERIAL = 20


class StoredFile(Base):
    __tablename__ = "files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by: Mapped[str] = mapped_column(String(64), default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def max_bytes() -> int:
    """The upload limit: `ONEWINDOW_MAX_FILE_MB` megabytes (default 20)."""
    try:
        return int(float(os.environ.get("ONEWINDOW_MAX_FILE_MB") or 20) * 1024 * 1024)
    except ValueError:
        return 20 * 1024 * 1024


def clean_name(name: str | None) -> str:
    """The file name without any path, control characters or more than 200 characters."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[-200:] or "file"


def view(row: StoredFile) -> dict:
    return {"sha256": row.sha256, "size": row.size, "content_type": row.content_type, "name": row.name}


class Files:
    """Accept, describe and read material files; `storage` holds the bytes."""

    def __init__(self, services, storage: FileStorage | None = None, limit: int | None = None):
        self.sv = services
        self.storage = storage or default_storage()
        self.limit = limit

    @property
    def max_bytes(self) -> int:
        return self.limit or max_bytes()

    def accept(self, by: str, name: str | None, source, field: str = "file") -> dict:
        """Take an upload (bytes or a readable stream): 413 over the limit, 422 unless it is really a PDF, JPEG or
        PNG. Uploading the same content again answers the same hash."""
        limit = self.max_bytes
        content = source if isinstance(source, (bytes, bytearray)) else source.read(limit + 1)
        content = bytes(content)
        if len(content) > limit:
            mb = limit / (1024 * 1024)
            raise TooLarge(Message(f"文件超过 {mb:g} MB", f"the file is larger than {mb:g} MB"),
                           {field: Message(f"文件超过 {mb:g} MB 上限", f"larger than the {mb:g} MB limit")})
        if not content:
            raise Invalid(Message("文件为空", "the file is empty"), {field: Message("文件为空", "empty file")})
        ctype = sniff(content)
        if ctype is None:
            raise Invalid(Message("只接受 PDF、JPEG 或 PNG 文件（按内容判断，不看扩展名）",
                                  "only PDF, JPEG or PNG files are accepted (judged by content, not by name)"),
                          {field: Message("文件内容不是 PDF、JPEG 或 PNG", "the content is not PDF, JPEG or PNG")})
        sha = hashlib.sha256(content).hexdigest()
        self.storage.put(sha, content)
        try:
            with self.sv.uow() as s:
                row = s.get(StoredFile, sha)
                if row is None:
                    row = StoredFile(sha256=sha, size=len(content), content_type=ctype, name=clean_name(name),
                                     uploaded_by=by, uploaded_at=self.sv.clock())
                    s.add(row)
                    s.flush()
                return view(row)
        except IntegrityError:  # the same content uploaded at the same moment by someone else
            return self.describe_one(sha)

    def describe_one(self, sha: str) -> dict:
        with self.sv.uow() as s:
            row = s.get(StoredFile, sha)
            if row is None:
                raise NotFound(f"no such file: {sha}")
            return view(row)

    def describe(self, s, refs: dict) -> dict[str, dict]:
        """sha256 -> {name, size, content_type} for every hash of `refs` ({key: [sha256, ...]}); Invalid naming
        `files.<key>` for a hash that was never uploaded."""
        wanted = sorted({h for hashes in refs.values() for h in hashes})
        rows = {r.sha256: r for r in s.scalars(select(StoredFile).where(StoredFile.sha256.in_(wanted)))} \
            if wanted else {}
        for key, hashes in refs.items():
            for i, h in enumerate(hashes):
                if h not in rows:
                    raise Invalid(Message("文件未上传或已不存在", "no file with this hash was uploaded"),
                                  {f"files.{key}[{i}]": Message("文件未上传（先 POST /api/v1/files）",
                                                                "not uploaded (POST /api/v1/files first)")})
        return {h: {k: v for k, v in view(rows[h]).items() if k != "sha256"} for h in wanted}

    def read(self, sha: str) -> bytes:
        content = self.storage.get(sha)
        if content is None:
            raise NotFound(f"the bytes of file {sha} are missing from the store")
        return content

    def check(self, sha: str) -> str | None:
        """None when the stored bytes hash to `sha`; else what is wrong."""
        content = self.storage.get(sha)
        if content is None:
            return "missing from the store"
        if hashlib.sha256(content).hexdigest() != sha:
            return "altered: its bytes no longer hash to the recorded SHA-256"
        return None


def file_refs(value, field: str = "files") -> dict[str, list[str]]:
    """A submission's `files` ({material or item: [sha256, ...]}) checked for shape; Invalid names the field."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(Message("files 应为对象", "files must be an object"),
                      {field: Message("应为 {材料: [sha256, …]}", "must be {material: [sha256, …]}")})
    out = {}
    for key, hashes in value.items():
        if not isinstance(hashes, list) or len(hashes) > MAX_PER_MATERIAL:
            raise Invalid(Message("文件列表格式不正确", "a list of at most 20 hashes is expected"),
                          {f"{field}.{key}": Message(f"应为最多 {MAX_PER_MATERIAL} 个 sha256 的列表",
                                                     f"a list of at most {MAX_PER_MATERIAL} sha256 hashes")})
        for i, h in enumerate(hashes):
            if not isinstance(h, str) or not SHA256.match(h):
                raise Invalid(Message("文件哈希应为 64 位十六进制 SHA-256", "a file is named by its SHA-256 (64 hex)"),
                              {f"{field}.{key}[{i}]": Message("不是 SHA-256", "not a SHA-256 hex digest")})
        if hashes:
            out[str(key)] = list(dict.fromkeys(hashes))
    return out


ACCEPTED_TYPES = ACCEPTED
