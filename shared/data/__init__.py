"""Data: the only code that names a Firestore collection. Pydantic documents and repositories for
customers (snapshots), offers, knowledge articles, suggestions, next steps, feedback and tickets.
"""
