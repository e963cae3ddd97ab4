"""A bibliography entry: where a number comes from."""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Accepted values of ``Source.type``.
SOURCE_TYPES: frozenset[str] = frozenset(
    {
        "news",
        "company",
        "government",
        "government-report",
        "parliament",
        "paper",
        "thesis",
        "conference",
        "presentation",
        "book",
        "database",
        "code",
        "web",
        "blog",
        "ngo",
        "industry-report",
        "price-reporting-agency",
        "derived",
        "assumption",
    }
)


@dataclass(frozen=True)
class Source:
    """One bibliography entry, with a stable id unique across every file of ``sources/``.

    ``date`` is the publication date as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; ``url`` may be ``None`` only
    when the source has no public address (the ``note`` then says how to find it).
    """

    id: str
    title: str
    publisher: str
    date: str
    type: str
    url: str | None = None
    authors: str | None = None
    doi: str | None = None
    via: str | None = None
    note: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Plain dict (JSON-ready), without the internal ``file`` field."""
        out = asdict(self)
        out.pop("file")
        return out
