"""Decisions: business rules that more than one capability uses: next-best-action eligibility and
arbitration, resolver-group routing (serving only) and the queue catalogue. The model proposes; code
here disposes.
"""
