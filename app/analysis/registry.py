"""Per-sentence analyzers by name; later analyzers register here."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.analysis import stats

Analyzer = Callable[[str], dict]

_ANALYZERS: dict[str, Analyzer] = {"stats": stats.analyze}
DEFAULT_ANALYZERS = ("stats",)


def available_analyzers() -> list[str]:
    """Return the names of the registered analyzers."""
    return sorted(_ANALYZERS)


def analyze_sentence(text: str, names: Iterable[str] = DEFAULT_ANALYZERS) -> dict:
    """Run the named analyzers on one sentence and merge their results by name."""
    return {name: _ANALYZERS[name](text) for name in names}
