"""Every Cloud Functions entry point, for ``functions-framework --target`` and ``--entry-point``.

Settings are validated at import, so a misconfigured deployment fails at start with a
clear message instead of on the first request. With ``CX_PRELOAD`` the function named by
``FUNCTION_TARGET`` loads its models at start instead of on its first request — in the gunicorn
worker that serves, not in the master that imports this module (``shared.warmup.warm_in_worker``).
"""

from __future__ import annotations

import os

import functions_framework

from functions.closing_message import closing_message
from functions.commitment_sweep import commitment_sweep
from functions.commitment_update import commitment_update
from functions.confirm_next_steps import confirm_next_steps
from functions.context_summary import context_summary
from functions.feedback import feedback
from functions.next_best_action import next_best_action
from functions.next_steps import next_steps
from functions.outbox_drain import outbox_drain
from functions.privacy_request import privacy_request
from functions.reply_draft import reply_draft
from functions.snapshot_sync import snapshot_sync
from functions.ticket_closed import ticket_closed
from shared.platform.events import install_shutdown_handler
from shared.platform.http import accept_unconventional_methods, install_json_errors
from shared.runtime import startup_settings

install_shutdown_handler()  # SIGTERM writes unsettled events to the outbox (gunicorn keeps its own handler)
accept_unconventional_methods()  # a lower-case method gets the JSON error, not the server's HTML 400
install_json_errors(functions_framework.errorhandler)  # the server's and the framework's own errors as JSON too

if startup_settings().preload:  # deployed instances load their function's models in the worker that serves
    from shared.runtime import default_runtime
    from shared.warmup import warm_in_worker

    warm_in_worker(os.environ.get("FUNCTION_TARGET", ""), default_runtime)

__all__ = [
    "context_summary",
    "next_best_action",
    "reply_draft",
    "next_steps",
    "confirm_next_steps",
    "closing_message",
    "feedback",
    "ticket_closed",
    "outbox_drain",
    "snapshot_sync",
    "privacy_request",
    "commitment_update",
    "commitment_sweep",
]
# CloudEvent (Pub/Sub) entry points; the rest are HTTP functions.
EVENT_FUNCTIONS: tuple[str, ...] = ("ticket_closed", "outbox_drain", "snapshot_sync", "commitment_sweep")
