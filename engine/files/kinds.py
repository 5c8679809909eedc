"""What a file is, read from its first bytes — never from its name or the type a browser claims. Only PDF, JPEG
and PNG are taken: what a clerk scans or photographs, and what every viewer opens without running anything."""
from __future__ import annotations

SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
ACCEPTED = tuple(t for _, t, _ in SIGNATURES)


def sniff(content: bytes) -> str | None:
    """The content type the bytes really are (one of ACCEPTED), or None."""
    for magic, ctype, _ in SIGNATURES:
        if content.startswith(magic):
            return ctype
    return None


def extension(content_type: str) -> str:
    return next((ext for _, t, ext in SIGNATURES if t == content_type), "bin")
