"""Capabilities: one module per deployed function, named like it, each with one entry verb, composed
from the shared pipeline (snapshot, mask, render, generate, restore, check, record). Capabilities
never import each other and see the Runtime only for typing.
"""
