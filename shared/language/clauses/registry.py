"""Every clause analyzer, by the name ``config/language/extraction.yaml`` uses (``clause_analyzer``). Adding a
language's analyzer is a module in this package and a line here; the languages it serves are data."""

from __future__ import annotations

from shared.language.clauses.base import ClauseAnalyzer
from shared.language.clauses.de import GermanClauses
from shared.language.clauses.en import EnglishClauses

ANALYZERS: dict[str, type[ClauseAnalyzer]] = {cls.name: cls for cls in (EnglishClauses, GermanClauses)}
