"""``cx``: the one command for the project's tools, grouped as the tools are.

Every sub-command is a thin door onto one tool module's ``main``: the tool keeps its own
options (``cx eval reply --help`` prints them), and its module is imported only when the
sub-command runs, so ``cx --help`` stays instant. Typer (on Click) because spaCy's own CLI
is built on it and it is already in the dependency tree; see the README's tool table.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass

import typer

app = typer.Typer(
    name="cx",
    help="CX Copilot tools: local stack, seed data, evaluations, benchmarks, routing, warehouse, QA, "
    "dead letters, build and operations.",
    no_args_is_help=True,
    add_completion=False,
)


@dataclass(frozen=True)
class Tool:
    """One sub-command: the module whose ``main`` it runs and the arguments it always passes first."""

    name: str
    module: str
    help: str
    prefix: tuple[str, ...] = ()


# group -> (help, tools). A tool module is named once here; adding a tool is one line.
GROUPS: dict[str, tuple[str, tuple[Tool, ...]]] = {
    "stack": (
        "The local stack: emulators, seeded data, every function on localhost.",
        (
            Tool("demo", "scripts.devstack", "Run the end-to-end demo (what ./scripts/demo.sh runs).", ("demo",)),
            Tool("export-web", "scripts.devstack", "Write the agent desktop as a static site.", ("export-web",)),
            Tool("up", "scripts.devstack", "Start the stack and keep it up (Ctrl-C stops everything).", ("up",)),
        ),
    ),
    "seed": (
        "Demo data for the local stack and the tests.",
        (
            Tool("demo", "scripts.seed", "Write the 20 demo customers, catalogue and KB (emulators or --allow-cloud)."),
            Tool("kb", "scripts.kb_ingest", "Load knowledge articles with embeddings."),
        ),
    ),
    "eval": (
        "Quality figures on real and gold data (paths default to ../shared/data).",
        (
            Tool("next-steps", "scripts.eval_next_steps", "Next-step extraction on the gold set; summaries."),
            Tool("reply", "scripts.eval_reply", "Reply drafts: injection, false positives, intents, sentiment."),
            Tool("router", "scripts.eval_router", "Resolver-group routing and intent."),
            Tool("pii", "scripts.eval_pii", "PII masking recall and precision."),
            Tool("reply-frozen", "scripts.eval_reply_frozen", "All reply-side checks on the frozen set, by class."),
            Tool("reply-relevance", "scripts.eval_reply_relevance", "Off-task relevance: lexical vs. embeddings, dev."),
            Tool("reply-acts", "scripts.eval_reply_acts", "Allowed acts by meaning: thresholds on dev data."),
            Tool("closing", "scripts.eval_closing", "Closing texts: frozen cases and the gold set's closing texts."),
            Tool(
                "quality", "scripts.evaluate", "The project's scorers offline; Vertex Gen AI evaluation with a project."
            ),
            Tool("experiments", "scripts.experiment_report", "Prompt experiments: candidate vs control."),
        ),
    ),
    "bench": (
        "Benchmarks, each side by side with its baseline in the same run (never asserted).",
        (
            Tool(
                "functions",
                "scripts.bench_functions",
                "Each function served as deployed vs a bare one-read function: p50/p95, ratio, first answer, PSS.",
            ),
            Tool("overhead", "scripts.bench", "In-process cold start, per-request overhead, tokens, cost."),
            Tool("duedates", "scripts.bench_duedates", "Due-date resolver cost on real text."),
            Tool("next-steps", "scripts.bench_next_steps", "Structural next-step extractor cost."),
            Tool("panels", "scripts.bench_panels", "Agent-desktop panels: click to rendered result."),
            Tool("pii", "scripts.bench_pii", "PII masking cost."),
            Tool("policy", "scripts.bench_policy", "Output policy overhead per reply."),
            Tool("router", "scripts.bench_router", "Router load and per-request cost."),
            Tool("warehouse", "scripts.bench_warehouse", "KPI view query times at scale."),
            Tool("analytics", "scripts.bench_analytics", "Nightly materialization: incremental vs full rebuild."),
            Tool("reliability", "scripts.bench_reliability", "Redelivery, outages, contention, fuzz."),
            Tool("context", "scripts.bench_context", "Prepared context vs per-request build, side by side."),
            Tool("gemini-cost", "scripts.gemini_cost", "Tokens and cost per capability on the demo customers."),
            Tool("sync", "scripts.bench_sync", "Snapshot sync events/s and import rows/s."),
            Tool("commitments", "scripts.bench_commitments", "Overdue sweep throughput (commitments/s)."),
        ),
    ),
    "router": (
        "Resolver-group routing.",
        (Tool("train", "scripts.train_router", "Train the router on closed tickets and agent overrides."),),
    ),
    "warehouse": (
        "The analytics warehouse (BigQuery; DuckDB locally).",
        (Tool("run", "scripts.warehouse", "Load events, materialize, report the KPIs."),),
    ),
    "qa": (
        "The weekly quality loop.",
        (Tool("weekly", "scripts.weekly_qa", "Review sheet of last week's contacts; verdicts back in."),),
    ),
    "dlq": (
        "Dead letters and the event outbox.",
        (
            Tool(
                "replay",
                "scripts.replay_dead_letters",
                "Replay dead letters (ticket close, snapshot sync, events to BigQuery) onto their topics.",
            ),
            Tool("drain", "scripts.drain_outbox", "Republish events whose publish failed (outbox to Pub/Sub)."),
        ),
    ),
    "build": (
        "Generated files and packaging.",
        (
            Tool("openapi", "scripts.openapi", "Generate (or --check) functions/openapi.json."),
            Tool("lock", "scripts.lock", "Regenerate the requirements locks from pyproject.toml."),
            Tool("screenshots", "scripts.screenshots", "Screenshots of each agent-desktop panel."),
            Tool("tf-schema", "scripts.tf_schema", "Check infra/terraform against the pinned providers' schema."),
        ),
    ),
}


# Commands of their own (no group): operations a platform engineer runs by name.
TOP: tuple[Tool, ...] = (
    Tool("smoke", "scripts.smoke", "After deploying: each capability once through Gemini."),
    Tool("import", "scripts.importer", "Load customers, orders, tickets, offers, KB, queues through a field mapping."),
    Tool("privacy", "scripts.privacy", "Access (export) or erase everything held about one customer."),
)


def run_tool(module: str, argv: list[str]) -> int:
    """Import ``module`` and run its ``main`` with ``argv`` (or as ``sys.argv`` for a main without one)."""
    main: Callable[..., object] = importlib.import_module(module).main
    if inspect.signature(main).parameters:
        result = main(argv)
    else:
        saved = sys.argv
        sys.argv = [f"cx {module}", *argv]
        try:
            result = main()
        finally:
            sys.argv = saved
    return int(result or 0)


def _command(tool: Tool) -> Callable[[typer.Context], None]:
    def command(ctx: typer.Context) -> None:
        raise typer.Exit(run_tool(tool.module, [*tool.prefix, *ctx.args]))

    command.__doc__ = tool.help
    return command


_FORWARD = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}

for _tool in TOP:
    app.command(_tool.name, help=_tool.help, context_settings=_FORWARD)(_command(_tool))

for _group, (_help, _tools) in GROUPS.items():
    _sub = typer.Typer(help=_help, no_args_is_help=True, add_completion=False)
    for _tool in _tools:
        _sub.command(_tool.name, help=_tool.help, context_settings=_FORWARD)(_command(_tool))
    app.add_typer(_sub, name=_group)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m scripts.cli`` and tests; the installed ``cx`` script calls ``app``."""
    try:
        app(args=argv, prog_name="cx")
    except SystemExit as exc:  # typer.Exit, click's usage errors and a tool's argparse all end here
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
