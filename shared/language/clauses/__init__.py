"""Clause analysis for next steps: one analyzer per language (``en``, ``de``), registered in
``registry`` and chosen per language by ``config/language/extraction.yaml`` (``clause_analyzer``), and the
language-free ``select`` that turns clauses into next steps."""
