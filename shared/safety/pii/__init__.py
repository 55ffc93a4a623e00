"""PII: the detector interface and pseudonymizer (base), one recogniser class per file
(recognizers), the local backend that runs them and the Sensitive Data Protection backend."""
