"""Messages people read, in both UI languages.

The engine runs without a request, so it cannot know the reader's language: it says a message in Chinese and in
English at once, and the front end picks. A `Message` IS its Chinese text (zh-CN first), so everything that treats
it as a plain string (logs, JSON, tests, old callers) keeps working; `.en` carries the English text.
"""
from __future__ import annotations


class Message(str):
    """A str whose value is the zh-CN text, with the English text in `.en`."""

    en: str

    def __new__(cls, zh: str, en: str | None = None) -> "Message":
        self = super().__new__(cls, zh)
        self.en = zh if en is None else en
        return self

    def __reduce__(self):  # copy, deepcopy and pickle rebuild both texts
        return (Message, (str(self), self.en))

    def __repr__(self) -> str:
        return f"Message({str(self)!r}, {self.en!r})"

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else str(self)


def in_lang(value, lang: str):
    """`value` in the reader's language: a Message gives its text in `lang`; anything else is returned as it is."""
    return value.in_lang(lang) if isinstance(value, Message) else value


def short(value, limit: int = 20) -> str:
    """A value quoted in a message, cut so a message never echoes a long input back."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
