"""Each agent-facing function served as deployed, side by side with a bare one-read function.

    python -m scripts.bench_functions                      # every function, 300 timed requests each
    python -m scripts.bench_functions --requests 1000      # the memory figure the Terraform sizes come from
    python -m scripts.bench_functions --only context_summary,next_steps_60 --json out.json

Every function runs in its own ``functions-framework`` process (gunicorn, one worker, ``THREADS``
and ``CX_PRELOAD=true`` as in infra/terraform), against the emulators with the offline engine, and so
does ``scripts/bench_bare.py`` (one Firestore document read, nothing else). Per function it prints:

* p50/p95 of the function and of the bare function, their requests interleaved one for one in the
  same loop (whatever else the machine does hits both alike), and the ratio of the p50s;
* first answer of a new instance: process start to the first 200 of a real request;
* memory after the timed requests: PSS of the instance (gunicorn master + worker) and of the master
  alone, and the instance's footprint as its container would hold it (worker RSS + master private
  pages), with the headroom that leaves under the memory set in infra/terraform/locals.tf.

Figures are printed, never asserted: timings belong in reports, not in tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.devstack import signed_headers
from shared.settings import ROOT

LOCALS_TF = ROOT / "infra" / "terraform" / "locals.tf"
# The goals: warm p50 at most this many times the bare one-read function.
GOALS = {
    "context_summary": 3.0,
    "closing_message": 3.0,
    "reply_draft": 5.0,
    "next_best_action": 5.0,
    "next_steps_60": 8.0,
}
FIRST_ANSWER_GOAL_S = 1.0
HEADROOM_GOAL = 0.40

Body = Callable[[int, dict[str, Any] | None], dict[str, Any]]


@dataclass
class Case:
    """One row of the table: a function target and the request bodies it is timed with."""

    name: str
    target: str
    body: Body  # (request number, previous answer) -> body
    setup: Callable[[Any], None] = field(default=lambda rt: None)


def _cycle(bodies: list[dict[str, Any]]) -> Body:
    return lambda i, _last: bodies[i % len(bodies)]


CUSTOMERS = [f"C-{1001 + i}" for i in range(20)]
REPLY_MESSAGES = [
    ("C-1004", "Sie haben mir den Oktober doppelt abgebucht! Ich will mein Geld zurück."),
    ("C-1001", "Hi, my router keeps rebooting, can you help?"),
    ("C-1002", "Schon wieder kein Internet seit heute Morgen."),
    ("C-1009", "Where is my parcel? It says delivered but nothing arrived."),
]
CALL_LINES = [
    ("customer", "My internet keeps dropping every evening and I work from home."),
    ("agent", "I'm sorry to hear that, let me look at your line."),
    ("customer", "It has been like this for a week."),
    ("agent", "I can see errors on the line. A technician will visit you on Monday."),
    ("agent", "Please restart the router tonight so we get fresh readings."),
    ("customer", "Okay, I'll do that after dinner."),
]
THREE_TURNS = [
    {"speaker": "customer", "text": "My router keeps rebooting every hour."},
    {"speaker": "agent", "text": "I'll send you a replacement router by Friday."},
    {"speaker": "agent", "text": "Please return the old router within 14 days using the prepaid label."},
]
FINAL_ACTIONS = [
    {"owner": "backoffice", "description": "Refund the duplicate October charge", "due_by": "2026-11-26"},
    {"owner": "customer", "description": "Send a bank statement as proof", "due_by": "2026-11-23"},
    {"owner": "agent", "description": "Call the customer to confirm everything is settled", "due_by": None},
]


def _transcript(turns: int) -> list[dict[str, str]]:
    return [{"speaker": CALL_LINES[i % 6][0], "text": CALL_LINES[i % 6][1]} for i in range(turns)]


def _signed_call(rt: Any) -> Any:
    """The call context a signed-in demo agent's request gets (a suggestion's owner is its agent)."""
    from shared.platform.calls import CallContext

    ctx = CallContext()
    ctx.principal = rt.authenticator.authenticate(signed_headers("agent-demo"))
    ctx.agent_id, ctx.agent_role = ctx.principal.agent_id, ctx.principal.role
    return ctx


def _put_ticket(rt: Any, customer_id: str, ticket_id: str, subject: str) -> None:
    from datetime import UTC, datetime

    from shared.data.snapshots import Ticket

    rt.snapshots.put_many(customer_id, [Ticket(ticket_id=ticket_id, subject=subject, opened_at=datetime.now(UTC))])


class _Confirm:
    """Confirmations of one suggestion, each on the version the previous one left (as the desktop sends)."""

    def __init__(self) -> None:
        self.suggestion_id = ""

    def setup(self, rt: Any) -> None:
        from shared.capabilities.next_steps import NextStepsRequest, extract

        _put_ticket(rt, "C-1005", "T-BENCH-CONFIRM", "Router reboots")
        req = NextStepsRequest(
            customer_id="C-1005", ticket_id="T-BENCH-CONFIRM", channel="phone", transcript=THREE_TURNS
        )
        self.suggestion_id = extract(req, rt, _signed_call(rt)).suggestion_id
        rt.events.flush()

    def body(self, i: int, last: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "suggestion_id": self.suggestion_id,
            "customer_id": "C-1005",
            "ticket_id": "T-BENCH-CONFIRM",
            "actions": FINAL_ACTIONS[: 1 + i % 3],
            "resolver_group": "Technical Support",
            "base_version": int((last or {}).get("version", 0)),
        }


class _Feedback:
    """Ratings of one reply draft with the text the agent sent (minimized before it is stored), each with
    its own idempotency key."""

    def __init__(self) -> None:
        self.suggestion_id = ""

    def setup(self, rt: Any) -> None:
        from shared.capabilities.reply_draft import ReplyRequest, draft_reply

        req = ReplyRequest(customer_id="C-1001", message=REPLY_MESSAGES[1][1], channel="email")
        self.suggestion_id = draft_reply(req, rt, _signed_call(rt)).suggestion_id
        rt.events.flush()

    def body(self, i: int, last: dict[str, Any] | None) -> dict[str, Any]:
        ratings = ("used_unchanged", "lightly_edited", "heavily_edited", "not_helpful")
        return {
            "event_id": f"bench-{uuid.uuid4().hex}",
            "suggestion_id": self.suggestion_id,
            "capability": "reply_draft",
            "rating": ratings[i % 4],
            "final_text": f"Hi Emma, your router is replaced by Friday; call Jane Miller on 0161 496 0{i % 1000:03d}.",
        }


def cases() -> list[Case]:
    confirm, feedback = _Confirm(), _Feedback()
    next_steps_body = {
        "customer_id": "C-1001",
        "ticket_id": "T-BENCH-60",
        "channel": "phone",
        "transcript": _transcript(60),
        "conversation_end_time": "2026-11-19T15:00:00+00:00",
    }
    return [
        Case("context_summary", "context_summary", _cycle([{"customer_id": c} for c in CUSTOMERS])),
        Case(
            "reply_draft",
            "reply_draft",
            _cycle([{"customer_id": c, "message": m, "channel": "email"} for c, m in REPLY_MESSAGES]),
        ),
        Case(
            "next_best_action",
            "next_best_action",
            _cycle(
                [
                    {
                        "customer_id": c,
                        "channel": "chat",
                        "transcript": [
                            {"speaker": "customer", "text": "The internet is down again, this is unacceptable."}
                        ],
                    }
                    for c in ("C-1002", "C-1001", "C-1004", "C-1003")
                ]
            ),
        ),
        Case(
            "next_steps_3",
            "next_steps",
            _cycle(
                [
                    {
                        "customer_id": "C-1005",
                        "ticket_id": "T-1005-01",
                        "channel": "phone",
                        "transcript": THREE_TURNS,
                        "conversation_end_time": "2026-11-19T15:00:00+00:00",
                    }
                ]
            ),
        ),
        Case(
            "next_steps_60",
            "next_steps",
            _cycle([next_steps_body]),
            setup=lambda rt: _put_ticket(rt, "C-1001", "T-BENCH-60", "Line drops"),
        ),
        Case(
            "closing_message",
            "closing_message",
            _cycle(
                [
                    {"customer_id": "C-1004", "ticket_id": "T-1004-01", "channel": "email", "actions": FINAL_ACTIONS},
                    {"customer_id": "C-1001", "channel": "chat", "actions": FINAL_ACTIONS[:2], "language": "en"},
                ]
            ),
        ),
        Case("confirm_next_steps", "confirm_next_steps", confirm.body, setup=confirm.setup),
        Case("feedback", "feedback", feedback.body, setup=feedback.setup),
    ]


BARE = Case("bare_read", "bare_read", _cycle([{"customer_id": c} for c in CUSTOMERS]))


# --- serving and measuring ----------------------------------------------------------------------


def terraform_functions(path: Path = LOCALS_TF) -> dict[str, dict[str, str]]:
    """``memory`` and ``concurrency`` per function from locals.tf (what the deployed instance gets)."""
    out: dict[str, dict[str, str]] = {}
    for name, body in re.findall(r"^\s*(\w+)\s*=\s*\{([^{}\n]*)\}\s*$", path.read_text("utf-8"), re.MULTILINE):
        fields = dict(re.findall(r"(\w+)\s*=\s*\"?([\w.]+)\"?", body))
        if "memory" in fields:
            out[name] = fields
    return out


def mebibytes(memory: str) -> float:
    """A Cloud Run memory setting ("512Mi", "1Gi") in MiB."""
    number, unit = re.fullmatch(r"([\d.]+)(Mi|Gi|M|G)", memory).groups()  # type: ignore[union-attr]
    return float(number) * {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}[unit]


def smaps(pid: int) -> dict[str, int]:
    """KiB per field of /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean, Private_Dirty…)."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            out[parts[0].rstrip(":")] = int(parts[1])
    return out


def pss_kib(pid: int) -> int:
    """Proportional set size of one process (shared pages split between the processes sharing them)."""
    return smaps(pid).get("Pss", 0)


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


class Server:
    """One function in its own functions-framework + gunicorn process, as Cloud Run starts it."""

    def __init__(self, case: Case, env: dict[str, str], log_dir: Path, source: Path) -> None:
        from scripts.emulators import free_port

        self.case = case
        self.port = free_port()
        self.log = log_dir / f"{case.name}.log"
        self.cmd = [
            sys.executable,
            "-m",
            "functions_framework",
            f"--target={case.target}",
            f"--source={source}",
            "--host=127.0.0.1",
            f"--port={self.port}",
        ]
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: http.client.HTTPConnection | None = None

    def start(self, first: dict[str, Any], headers: dict[str, str], timeout: float = 120.0) -> float:
        """Seconds from process start to the first 200 answer to ``first``."""
        started = time.perf_counter()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.case.name} exited; see {self.log}")
            try:
                status, answer = self.post(first, headers, timeout=timeout)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn = None
                time.sleep(0.005)
                continue
            if status != 200:
                raise RuntimeError(f"{self.case.name}: first answer {status}: {answer}")
            return time.perf_counter() - started
        raise RuntimeError(f"{self.case.name} did not answer within {timeout:.0f}s; see {self.log}")

    def post(self, body: dict[str, Any], headers: dict[str, str], timeout: float = 60.0) -> tuple[int, Any]:
        """One POST on a kept-alive connection; one retry on a fresh one when gunicorn closed an idle one."""
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.request("POST", "/", body=data, headers={"Content-Type": "application/json", **headers})
                resp = self.conn.getresponse()
                payload = resp.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                self.conn.close()
                self.conn = None
                if reused and attempt == 1:
                    continue  # the server's keep-alive timeout closed it while another server was measured
                raise
            except Exception:
                self.conn.close()
                self.conn = None
                raise
            return resp.status, json.loads(payload) if payload else None
        raise AssertionError("unreachable")

    def memory(self) -> dict[str, float]:
        """MiB: PSS of the instance (master + workers) and of the master alone; and what the instance's
        container holds whatever else runs on this machine: the workers' RSS plus the master's private
        pages (PSS would also split shared-library pages with unrelated processes here)."""
        assert self.proc is not None
        master = smaps(self.proc.pid)
        workers = [smaps(p) for p in children(self.proc.pid)]
        pss = master.get("Pss", 0) + sum(w.get("Pss", 0) for w in workers)
        private = master.get("Private_Clean", 0) + master.get("Private_Dirty", 0)
        instance = private + sum(w.get("Rss", 0) for w in workers)
        return {
            "pss_mib": round(pss / 1024, 1),
            "instance_mib": round(instance / 1024, 1),
            "master_mib": round(master.get("Pss", 0) / 1024, 1),
        }

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _timed(server: Server, body: Body, headers: dict[str, str], i: int, last: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    status, answer = server.post(body(i, last), headers)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"{server.case.name}: request {i} answered {status}: {answer}")
    return elapsed, answer


def measure(
    case: Case,
    bare: Server,
    env: dict[str, str],
    log_dir: Path,
    headers: dict[str, str],
    n: int,
    warmup: int,
    bare_every: int = 1,
) -> dict[str, Any]:
    """Start ``case`` fresh, time its first answer, then ``n`` requests interleaved with the bare function's
    (one after every ``bare_every`` of the function's)."""
    server = Server(case, {**env, "FUNCTION_TARGET": case.target}, log_dir, ROOT / "main.py")
    try:
        first_s = server.start(case.body(0, None), headers)
        last: Any = None
        for i in range(warmup):
            _, last = _timed(server, case.body, headers, i, last)
        own, base = [], []
        _timed(bare, BARE.body, {}, 0, None)  # its kept-alive connection was idle while this one started
        for i in range(n):
            ms, last = _timed(server, case.body, headers, warmup + i, last)
            own.append(ms)
            if i % bare_every == 0:
                ms, _ = _timed(bare, BARE.body, {}, i, None)
                base.append(ms)
        memory = server.memory()
    finally:
        server.stop()
    p50, b50 = _pct(own, 0.5), _pct(base, 0.5)
    return {
        "requests": n,
        "p50_ms": round(p50, 1),
        "p95_ms": round(_pct(own, 0.95), 1),
        "bare_p50_ms": round(b50, 2),
        "bare_p95_ms": round(_pct(base, 0.95), 2),
        "bare_requests": len(base),
        "ratio_p50": round(p50 / b50, 1),
        "first_answer_s": round(first_s, 2),
        **memory,
    }


def table(rows: dict[str, dict[str, Any]], memory: dict[str, dict[str, str]]) -> str:
    heads = (
        "function",
        "p50 ms",
        "p95 ms",
        "bare p50",
        "bare p95",
        "ratio",
        "goal",
        "1st answer s",
        "PSS MiB",
        "instance MiB",
        "master",
        "memory",
        "headroom",
    )
    lines = [" | ".join(heads), " | ".join("---" for _ in heads)]
    for name, r in rows.items():
        target = r.get("target", name)
        limit = memory.get(target, {}).get("memory")
        used = r.get("instance_mib", r.get("pss_mib"))
        headroom = f"{1 - used / mebibytes(limit):.0%}" if limit and used else "-"
        goal = GOALS.get(name)
        cells = (
            name,
            r["p50_ms"],
            r["p95_ms"],
            r["bare_p50_ms"],
            r["bare_p95_ms"],
            r["ratio_p50"],
            f"≤{goal:g}× {'met' if r['ratio_p50'] <= goal else 'not met'}" if goal else "-",
            r["first_answer_s"],
            r.get("pss_mib", "-"),
            r.get("instance_mib", "-"),
            r.get("master_mib", "-"),
            limit or "-",
            headroom,
        )
        lines.append(" | ".join(str(c) for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per function (default 300)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests after the first answer")
    parser.add_argument("--only", default="", help="comma-separated rows, e.g. context_summary,next_steps_60")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--bare-every", type=int, default=1, help="one bare request after every K of the function's (default 1)"
    )
    args = parser.parse_args(argv)
    chosen = [c for c in cases() if not args.only or c.name in args.only.split(",")]
    headers = signed_headers("agent-demo")  # before settings are read: the local issuer is trusted
    tf = terraform_functions()
    from scripts.emulators import seeded

    log_dir = Path(tempfile.mkdtemp(prefix="cx-bench-functions-"))
    load_before = os.getloadavg()
    rows: dict[str, dict[str, Any]] = {}
    with seeded("cx-bench-functions-", force_offline=True) as rt:
        for case in chosen:
            case.setup(rt)
        rt.events.flush()
        base_env = {**os.environ, "CX_PRELOAD": "true", "CX_MODEL_BACKEND": "offline"}
        bare = Server(BARE, {**base_env, "THREADS": "8"}, log_dir, ROOT / "scripts" / "bench_bare.py")
        try:
            bare_first = bare.start(BARE.body(0, None), {})
            for i in range(args.warmup):
                _timed(bare, BARE.body, {}, i, None)
            for case in chosen:
                threads = tf.get(case.target, {}).get("concurrency", "8")
                env = {**base_env, "THREADS": threads}
                rows[case.name] = {
                    "target": case.target,
                    **measure(case, bare, env, log_dir, headers, args.requests, args.warmup, args.bare_every),
                }
                print(f"{case.name}: {json.dumps(rows[case.name])}", flush=True)
            bare_memory = bare.memory()
        finally:
            bare.stop()
    served = args.warmup + sum(r["bare_requests"] + 1 for r in rows.values())
    print(
        f"\nbare one-read function: first answer {bare_first:.2f} s, PSS {bare_memory['pss_mib']} MiB "
        f"(master {bare_memory['master_mib']}) after {served} requests"
    )
    load = f"load average {load_before[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end on {os.cpu_count()} CPUs"
    print(f"{args.requests} requests per function, interleaved with the bare function's; {load}; logs in {log_dir}\n")
    print(table(rows, tf))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"bare": {"first_answer_s": round(bare_first, 2), **bare_memory}, "rows": rows, "load": load}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
