"""Lines 2-4 over real HTTP against a real `xinedai-workflow serve` (uvicorn) process (also with
the one-task diagram bench/diagrams/b_one.bpmn as the default process), and the request path's
own cost: `GET /health` through the service next to a bare FastAPI app with the same uvicorn
settings (bench/bare_app.py), measured side by side in one run.

    .venv/bin/python -m bench.http_lines --backends sqlite,postgres     # health, POST /cases, tasks
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from .env import Backend, Bundle, Serve, backend, make_workdir, median, overdue_event, pg_problem


async def _run_concurrently(
    items: Sequence[Any],
    concurrency: int,
    call: Callable[[httpx.AsyncClient, Any], Awaitable[None]],
    url: str,
) -> float:
    """Run `call` for every item with `concurrency` connections; return the elapsed seconds."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                await call(client, queue.get_nowait())

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began


def overdue_events(serve: Serve, count: int, runs: int, concurrency: int) -> float:
    """Line 2: one overdue event per request (new loans), cases/s; median of `runs` runs."""
    system = serve.backend.token("bench-core", "system")

    async def post(client: httpx.AsyncClient, event: dict[str, Any]) -> None:
        response = await client.post("/api/v1/events/overdue", headers=system, json=event)
        if response.status_code != 201:
            raise RuntimeError(f"overdue event answered {response.status_code}: {response.text[:300]}")

    warm = [overdue_event() for _ in range(100)]
    asyncio.run(_run_concurrently(warm, concurrency, post, serve.base_url))
    rates = []
    for _ in range(runs):
        events = [overdue_event() for _ in range(count)]
        elapsed = asyncio.run(_run_concurrently(events, concurrency, post, serve.base_url))
        rates.append(count / elapsed)
    return median(rates)


def batch_endpoint(serve: Serve, size: int, runs: int) -> float:
    """Line 3: one `overdue:batch` request with `size` new loans, cases/s; median of `runs` runs."""
    system = serve.backend.token("bench-core", "system")
    rates = []
    with httpx.Client(base_url=serve.base_url, timeout=600) as client:
        warm = client.post("/api/v1/events/overdue:batch", headers=system, json={"events": [overdue_event()]})
        warm.raise_for_status()
        for _ in range(runs):
            events = [overdue_event() for _ in range(size)]
            began = time.perf_counter()
            response = client.post("/api/v1/events/overdue:batch", headers=system, json={"events": events})
            elapsed = time.perf_counter() - began
            response.raise_for_status()
            statuses = {r["http_status"] for r in response.json()["results"]}
            if statuses != {201}:
                raise RuntimeError(f"batch results had statuses {statuses}")
            rates.append(size / elapsed)
    return median(rates)


def _open_tasks(serve: Serve, count: int, process_key: str = "t_collect") -> list[str]:
    """Start `count` cases of `process_key` with POST /cases (8 clients) and return their open
    task ids (one each: t_collect's call task, or the one-task diagram's task)."""
    system = serve.backend.token("bench-core", "system")
    admin = serve.backend.token("bench-admin", "admin")
    case_ids: list[str] = []

    async def start(client: httpx.AsyncClient, index: int) -> None:
        response = await client.post("/api/v1/cases", headers=system, json=_start_body(process_key, index))
        response.raise_for_status()
        case_ids.append(response.json()["case_id"])

    asyncio.run(_run_concurrently(range(count), 8, start, serve.base_url))
    task_ids: list[str] = []

    async def read(client: httpx.AsyncClient, case_id: str) -> None:
        response = await client.get(f"/api/v1/cases/{case_id}", headers=admin)
        response.raise_for_status()
        task_ids.extend(t["task_id"] for t in response.json()["open_tasks"])

    asyncio.run(_run_concurrently(case_ids, 8, read, serve.base_url))
    return task_ids


def _start_body(process_key: str, index: int) -> dict[str, Any]:
    """A POST /cases body for a new loan: t_collect needs its `amount`, the one-task diagram nothing."""
    variables = {"amount": "1200.00"} if process_key == "t_collect" else {}
    return {
        "process_key": process_key,
        "loan_id": f"T-{index}-{time.time_ns()}",
        "request_id": f"bench-{index}-{time.time_ns()}",
        "variables": variables,
    }


def claim_and_complete(
    serve: Serve, count: int, runs: int, concurrency: int, process_key: str = "t_collect"
) -> float:
    """Line 4: claim + complete of open t_collect call tasks (or the one-task diagram's tasks) over
    HTTP, tasks/s (each task = two requests); median of `runs` runs."""
    collector = serve.backend.token("bench-alice", "collector", groups=("collectors",))
    data = {"outcome": "refused"} if process_key == "t_collect" else {}

    async def work(client: httpx.AsyncClient, task_id: str) -> None:
        claim = await client.post(f"/api/v1/tasks/{task_id}/claim", headers=collector)
        if claim.status_code != 200:
            raise RuntimeError(f"claim answered {claim.status_code}: {claim.text[:300]}")
        done = await client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector, json={"data": data})
        if done.status_code != 200:
            raise RuntimeError(f"complete answered {done.status_code}: {done.text[:300]}")

    rates = []
    for run in range(runs + 1):
        tasks = _open_tasks(serve, count if run else 50, process_key)
        elapsed = asyncio.run(_run_concurrently(tasks, concurrency, work, serve.base_url))
        if run:  # the first, small run warms the caches
            rates.append(len(tasks) / elapsed)
    return median(rates)


def http_lines(backend: Backend, workers: int, quick: bool) -> dict[str, float]:
    """Lines 2-4 against one serve process with `workers` uvicorn workers."""
    runs = 1 if quick else 3
    with Serve(backend, workers) as serve:
        line2 = overdue_events(serve, 300 if quick else 1500, runs, concurrency=16)
        line3 = batch_endpoint(serve, 2000 if quick else 10_000, runs)
        line4 = claim_and_complete(serve, 200 if quick else 1000, runs, concurrency=16)
    return {"line2": line2, "line3": line3, "line4": line4}


class BareServe(Serve):
    """bench/bare_app.py in its own uvicorn process (same settings as `serve`, one worker)."""

    name = "bare"
    ready_path = "/ping"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend, 1)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.bare_app", "--port", str(self.port)]


def _ms_per_get(url: str, path: str, count: int) -> float:
    """Sequential GETs on one keep-alive connection: median ms per request over 5 slices."""
    slices = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(20):  # warm the connection and the pools
            client.get(path).raise_for_status()
        for _ in range(5):
            began = time.perf_counter()
            for _ in range(count // 5):
                client.get(path).raise_for_status()
            slices.append((time.perf_counter() - began) * 1000 / (count // 5))
    return median(slices)


def request_path(serve: Serve, bare: BareServe, count: int, rounds: int) -> dict[str, float]:
    """`GET /health` through the service and through the bare app (same handler), and the bare
    app's trivial route, interleaved round by round; medians of the rounds in ms per request."""
    samples: dict[str, list[float]] = {"service /health": [], "bare /health": [], "bare /ping": []}
    for _ in range(rounds):
        samples["service /health"].append(_ms_per_get(serve.base_url, "/health", count))
        samples["bare /health"].append(_ms_per_get(bare.base_url, "/health", count))
        samples["bare /ping"].append(_ms_per_get(bare.base_url, "/ping", count))
    return {name: median(values) for name, values in samples.items()}


def start_cases(
    serve: Serve, count: int, runs: int, concurrency: int, process_key: str = "t_collect"
) -> float:
    """`POST /cases` of `process_key` with `concurrency` clients, cases/s; median of `runs` runs."""
    system = serve.backend.token("bench-core", "system")

    async def post(client: httpx.AsyncClient, index: int) -> None:
        response = await client.post("/api/v1/cases", headers=system, json=_start_body(process_key, index))
        if response.status_code != 201:
            raise RuntimeError(f"POST /cases answered {response.status_code}: {response.text[:300]}")

    asyncio.run(_run_concurrently(range(50), concurrency, post, serve.base_url))
    rates = []
    for _ in range(runs):
        elapsed = asyncio.run(_run_concurrently(range(count), concurrency, post, serve.base_url))
        rates.append(count / elapsed)
    return median(rates)


def one_task_lines(one: Backend, workers: int, quick: bool) -> dict[str, float]:
    """The one-task column: lines 2-4 against a `serve` whose default process is the one-task
    diagram (`one.bundle`), and the issue-19 rows POST /cases with 8 and 1 clients and claim +
    complete with 1 client ("post8", "post1", "cc1")."""
    runs = 1 if quick else 3
    key = one.bundle.default_key
    with Serve(one, workers) as serve:
        return {
            "2": overdue_events(serve, 300 if quick else 1500, runs, concurrency=16),
            "3": batch_endpoint(serve, 2000 if quick else 10_000, runs),
            "4": claim_and_complete(serve, 200 if quick else 1000, runs, 16, key),
            "post8": start_cases(serve, 200 if quick else 1000, runs, 8, key),
            "post1": start_cases(serve, 100 if quick else 500, runs, 1, key),
            "cc1": claim_and_complete(serve, 100 if quick else 500, runs, 1, key),
        }


def request_path_line(db: Backend, quick: bool) -> dict[str, float]:
    """`request_path` with a one-worker `serve` and the bare app (the same uvicorn settings)."""
    with Serve(db, 1) as serve, BareServe(db) as bare:
        return request_path(serve, bare, 200 if quick else 500, 3 if quick else 5)


def path_cost(figures: dict[str, float]) -> tuple[float, float]:
    """The request path's own cost (everything but the handler), service and bare app, in ms:
    the handler (SELECT 1) is bare /health - bare /ping, so the bare app's path is bare /ping and
    the service's is service /health - handler. Both include the client's own share of a request."""
    handler = figures["bare /health"] - figures["bare /ping"]
    return figures["service /health"] - handler, figures["bare /ping"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=500, help="GETs per slice series")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the /health lines")
    parser.add_argument("--cases", type=int, default=300, help="POST /cases per run")
    parser.add_argument("--tasks", type=int, default=200, help="claim + complete per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for kind in args.backends.split(","):
        if kind == "postgres" and (problem := pg_problem()):
            print(f"{kind}: skipped: {problem}")
            continue
        workdir = make_workdir()
        with backend(kind, Bundle.choose(workdir, "t_collect"), workdir) as db:
            db.deploy_fixtures()
            with Serve(db, 1) as serve, BareServe(db) as bare:
                path = request_path(serve, bare, args.requests, args.rounds)
                one = start_cases(serve, args.cases, args.runs, 1, "b_one")
                eight = start_cases(serve, args.cases, args.runs, 8, "b_one")
                tasks = claim_and_complete(serve, args.tasks, args.runs, 1, "b_one")
        for name, ms in path.items():
            print(f"{kind:<9} GET {name:<20} {ms:8.3f} ms/request")
        ratio = path["service /health"] / path["bare /health"]
        service_path, bare_path = path_cost(path)
        print(f"{kind:<9} service /health ÷ bare /health: {ratio:.2f}")
        share = service_path / bare_path
        print(f"{kind:<9} request path (all but the handler): {share:.2f}× bare (target ≤ 1.5×)")
        print(f"{kind:<9} POST /cases, 1 client         {one:8.1f} cases/s")
        print(f"{kind:<9} POST /cases, 8 clients        {eight:8.1f} cases/s")
        print(f"{kind:<9} claim + complete, 1 client    {tasks:8.1f} tasks/s")


if __name__ == "__main__":
    main()
