"""Platform: HTTP conventions, errors, structured logs, the per-call request context, Google Cloud
clients, the event publisher and its outbox, text primitives. Nothing here knows a contact-center
word; everything above may import it.
"""
