"""Workbench benchmark: first paint of the desk (the inbox page) with 100,000 open tasks, in
Debian's chromium, against a real `xinedai-workflow serve` (target: under 1 s).

    .venv/bin/python -m bench.workbench                        # PostgreSQL at 127.0.0.1:5432
    .venv/bin/python -m bench.workbench --database-url sqlite:////tmp/workbench.db

The database (default `xinedai_bench_workbench`, dropped and recreated) is seeded like the inbox
benchmark (`bench/inbox.py`: 100,000 open tasks + 100,000 ended ones in 20 groups). A separate
`serve --no-worker` process serves the pages; Playwright drives `/usr/bin/chromium` (never a
downloaded browser). Each person signs in once, then the desk is loaded `--runs` times with a
cold page (new tab, cache kept as a browser would); the line reports the median and the worst
first-contentful-paint and time to first byte from the browser's own Performance API; the
target is a median first paint under 1 s. The sign-in page (no data) is measured as the
browser's own floor on the machine at that moment.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.inbox import DEFAULT_URL as INBOX_URL
from bench.inbox import NOW, SECRET, recreate_database, seed
from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.settings import Settings
from xinedai_workflow.web.users import add_user

DEFAULT_URL = INBOX_URL.rsplit("/", 1)[0] + "/xinedai_bench_workbench"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TARGET_MS = 1000.0
PASSWORD = "bench-password-1"
# (user, roles, groups, what they see)
PEOPLE = [
    ("user-03-1", ["collector"], ["group-03"], "collector, 1 group (5,000 open tasks)"),
    ("sam", ["supervisor"], ["group-00", "group-01", "group-02"], "supervisor, 3 groups (15,000)"),
    ("admin", ["admin"], [], "admin, every group (100,000)"),
]
PAINT = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  const rows = document.querySelectorAll('tr.task-row').length;
  return {fcp: paint ? paint.startTime : null, ttfb: nav.responseStart, rows: rows};
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(url: str, users: Path, empty: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "XINEDAI_DATABASE_URL": url,
        "XINEDAI_JWT_SECRET": SECRET,
        "XINEDAI_WEB_USERS_FILE": str(users),
        "XINEDAI_PROCESSES_DIR": str(empty),
        "XINEDAI_WORKER_ENABLED": "false",
    }
    exe = Path(sys.executable).parent / "xinedai-workflow"
    process = subprocess.Popen(
        [str(exe), "serve", "--no-worker", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("serve did not start")


def _loads(context: Any, path: str, runs: int) -> tuple[list[float], list[float], int]:
    fcp, ttfb, rows = [], [], 0
    for _ in range(runs):
        tab = context.new_page()
        tab.goto(path, wait_until="load")
        tab.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
        figures = tab.evaluate(PAINT)
        fcp.append(float(figures["fcp"]))
        ttfb.append(float(figures["ttfb"]))
        rows = int(figures["rows"])
        tab.close()
    return fcp, ttfb, rows


def measure(base: str, runs: int) -> list[tuple[str, list[float], list[float], int]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for user, _roles, _groups, label in PEOPLE:
            context = browser.new_context(base_url=base, viewport={"width": 1360, "height": 900})
            tab = context.new_page()
            tab.goto("/login")
            tab.fill("input[name=username]", user)
            tab.fill("input[name=password]", PASSWORD)
            tab.click("button[type=submit]")
            tab.wait_for_load_state("load")
            tab.close()
            if user == PEOPLE[0][0]:  # the browser's own floor on this machine: a page with no data
                results.append(
                    ("baseline: the sign-in page (no data)", *_loads(context, "/lang/zh?next=/login", runs))
                )
            results.append((label, *_loads(context, "/desk", runs)))
            context.close()
        browser.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help="dropped and recreated!")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    recreate_database(args.database_url)
    services = build_services(Settings(database_url=args.database_url, jwt_secret=SECRET), ManualClock(NOW))
    try:
        seed(services, args.tasks, 20)
    finally:
        services.db.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        users, empty = Path(tmp) / "users.yaml", Path(tmp) / "no-processes"
        empty.mkdir()
        for user, roles, groups, _ in PEOPLE:
            add_user(users, user, PASSWORD, roles, groups)
        process, base = _serve(args.database_url, users, empty)
        try:
            results = measure(base, args.runs)
        finally:
            process.terminate()
            process.wait(timeout=20)
    backend = "SQLite" if args.database_url.startswith("sqlite") else "PostgreSQL"
    print(
        f"workbench desk, {args.tasks:,} open tasks (+{args.tasks:,} ended), {backend}, "
        f"chromium, {args.runs} loads each"
    )
    print(
        f"{'who':<40} {'FCP p50':>9} {'FCP max':>9} {'TTFB p50':>9} {'rows':>5}"
        f"  target: median FCP < {TARGET_MS:.0f} ms"
    )
    ok = True
    for label, fcp, ttfb, rows in results:
        met = statistics.median(fcp) < TARGET_MS
        ok = ok and (met or label.startswith("baseline"))
        p50, worst, first_byte = statistics.median(fcp), max(fcp), statistics.median(ttfb)
        print(
            f"{label:<40} {p50:>7.0f}ms {worst:>7.0f}ms {first_byte:>7.0f}ms"
            f" {rows:>5}  {'met' if met else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
