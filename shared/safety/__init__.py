"""Safety: personal-data detection and pseudonymization, the reply output policy (one check per
category), guardrails on incoming text and the data-access (context) policy that decides what a
prompt may see.
"""
