"""Privacy requests from the command line (``cx privacy``): access export and erasure for one customer.

    python -m scripts.privacy access C-1001 --case DSAR-2026-17 --out c-1001.json
    python -m scripts.privacy erase  C-1001 --case DSAR-2026-18 --yes
    python -m scripts.privacy erase  C-1001 --case DSAR-2026-18 --yes --warehouse .local/warehouse.duckdb

The same code as the ``privacy_request`` function (shared/capabilities/privacy_request.py), audited
the same way (a ``privacy.request`` event with the operator as agent id). The warehouse is the
project's BigQuery dataset when ``CX_PROJECT`` is set, or a local DuckDB file given with ``--warehouse``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from shared.data.privacy import WAREHOUSE_PLAN


class DuckDbWarehouse:
    """The local warehouse (scripts/warehouse_db.py) answering privacy requests like BigQuery does."""

    _EXPR = {"JSON_VALUE(data, '$.customer_key')": "json_extract_string(data, '$.customer_key')"}

    def __init__(self, con: Any, dataset: str = "cx_analytics") -> None:
        self._con = con
        self._dataset = dataset

    def _tables(self) -> set[str]:
        rows = self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
            [self._dataset],
        ).fetchall()
        return {r[0] for r in rows}

    def events_for(self, customer_key: str) -> list[dict[str, Any]]:
        rows = self._con.execute(
            f"SELECT publish_time, CAST(data AS VARCHAR) FROM {self._dataset}.events_raw "
            "WHERE json_extract_string(data, '$.customer_key') = ? ORDER BY publish_time",
            [customer_key],
        ).fetchall()
        return [{"publish_time": published.isoformat(), "data": json.loads(data)} for published, data in rows]

    def erase(self, customer_key: str, ticket_ids: list[str], suggestion_ids: list[str]) -> dict[str, int]:
        values: dict[str, Any] = {"key": customer_key, "ticket": ticket_ids, "suggestion": suggestion_ids}
        present, counts = self._tables(), {}
        for table, link, expr in WAREHOUSE_PLAN:
            if table not in present or (link != "key" and not values[link]):
                continue
            column = self._EXPR.get(expr, expr)
            cond = f"{column} = ?" if link == "key" else f"list_contains(?::VARCHAR[], {column})"
            (n,) = self._con.execute(f"DELETE FROM {self._dataset}.{table} WHERE {cond}", [values[link]]).fetchone()
            counts[table] = counts.get(table, 0) + int(n)
        return counts


def main(argv: list[str] | None = None, *, runtime: Any = None, warehouse: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="cx privacy", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["access", "erase"])
    parser.add_argument("customer_id")
    parser.add_argument("--case", required=True, help="the privacy team's case reference (audited)")
    parser.add_argument("--out", type=Path, help="access: write the export here (default: stdout)")
    parser.add_argument("--yes", action="store_true", help="erase: confirm; erasure cannot be undone")
    parser.add_argument(
        "--warehouse", type=Path, help="local DuckDB warehouse file (default: BigQuery if CX_PROJECT is set, else none)"
    )
    parser.add_argument("--operator", default=None, help="who runs it (audited; default: the OS user)")
    args = parser.parse_args(argv)
    if args.kind == "erase" and not args.yes:
        print("erasure deletes everything held about the customer and cannot be undone: pass --yes", file=sys.stderr)
        return 2
    from shared.capabilities.privacy_request import PrivacyRequest, run
    from shared.platform.calls import CallContext
    from shared.platform.errors import CxError

    if runtime is None:
        from shared.runtime import Runtime
        from shared.settings import load_settings

        runtime = Runtime(load_settings())
    con = None
    if warehouse is None and args.warehouse:
        from scripts.warehouse_db import connect

        con = connect(args.warehouse)
        warehouse = DuckDbWarehouse(con)
    kind = "erasure" if args.kind == "erase" else "access"
    call = CallContext(agent_id=args.operator or getpass.getuser(), agent_role="privacy")
    try:
        result = run(
            PrivacyRequest(kind=kind, customer_id=args.customer_id, case_id=args.case), runtime, call, warehouse
        )
    except CxError as exc:
        print(f"{args.kind} failed: {exc.message}", file=sys.stderr)
        return 1
    finally:
        runtime.events.flush()
        if con is not None:
            con.close()
    if kind == "access":
        text = json.dumps(result.export, indent=2, ensure_ascii=False, default=str)
        if args.out:
            args.out.write_text(text + "\n", "utf-8")
            print(f"wrote the export for case {args.case} to {args.out}")
        else:
            print(text)
        return 0
    print(json.dumps({"case_id": args.case, "erased": result.erased, "remaining": result.remaining}, indent=2))
    return 0 if not any((result.remaining or {}).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
