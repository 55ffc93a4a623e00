"""PII recognisers of the local backend, one class per file (as Presidio's predefined recognisers).

``registry.RECOGNIZERS`` lists them; ``recognizers`` in config/safety/pii.yaml enables them.
"""
