"""PII: the detector interface and pseudonymizer (base), the local Presidio/spaCy backend and the
Sensitive Data Protection backend.
"""
