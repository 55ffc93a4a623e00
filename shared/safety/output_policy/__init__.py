"""Output policy: what a drafted reply may contain, whatever engine or injection wrote it.

One check class per category (``policy.CHECKS``), run with a per-call ``PolicyContext``.
"""
