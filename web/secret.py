"""The key that signs session cookies, API tokens and printed verification codes.

There is no built-in key: a constant one would let anyone forge an administrator's token. It comes from
ONEWINDOW_SECRET_KEY, or from a file made once per installation (`onewindow secret init`, run by `make serve`):
`$ONEWINDOW_VAR/secret_key` (default var/secret_key), readable by its owner only.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_LENGTH = 32


def key_file() -> Path:
    return Path(os.environ.get("ONEWINDOW_SECRET_KEY_FILE") or Path(os.environ.get("ONEWINDOW_VAR", ROOT / "var"))
                / "secret_key")


def secret_key() -> str | None:
    """The configured key, or None when there is none."""
    value = os.environ.get("ONEWINDOW_SECRET_KEY")
    if value:
        return value
    path = key_file()
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return value or None


def init_key_file() -> tuple[Path, bool]:
    """Create the key file (mode 0600) unless it exists; (path, created). Several processes may race: the file
    is created exclusively and the loser keeps the winner's key."""
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path, False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    return path, True


def weak(value: str | None) -> str | None:
    """Why a key is not good enough, or None."""
    if not value:
        return "no secret key: set ONEWINDOW_SECRET_KEY or run `onewindow secret init`"
    if len(value) < MIN_LENGTH:
        return f"the secret key is shorter than {MIN_LENGTH} characters"
    return None
