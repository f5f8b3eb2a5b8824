"""`python -m bench.load`: a bounded load test of a live `sintonia serve` on 127.0.0.1.

Many concurrent clients, each with its own key, create tuning jobs, poll operations, list
their models and call generateContent for a fixed time; then the run stops by itself and
prints throughput and p50/p99 latency per route, and the errors (the target is none).
The same load runs against each database given (SQLite, the embedded default, and
PostgreSQL when a server answers), side by side, with PostgreSQL / SQLite ratios.

Loopback only: the server binds 127.0.0.1 and the clients call nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.workload import MODELS_DIR
from sintonia.auth.keys import KeyStore
from sintonia.auth.scopes import DEFAULT_SCOPES
from sintonia.storage.db import Database

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"
BASE = "models/smollm2-135m-instruct"
"""The lighter bundled model: the load is on the service, not on the model."""

POSTGRES = os.environ.get("SINTONIA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROUTES = ("create", "get operation", "list tuned models", "generate")
WEIGHTS = (1, 6, 2, 2)
"""Mostly polls, as SDK clients waiting on their jobs do."""


_samples: dict[str, tuple[str, list[str]]] = {}
"""Errors seen, by database and route, printed after the table."""


@dataclass
class Route:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    route: str
    calls: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _examples(client: int) -> list[dict[str, str]]:
    return [{"textInput": f"client {client} says {i}", "output": f"{i + 1}"} for i in range(20)]


async def _client(
    http: httpx.AsyncClient, number: int, key: str, until: float, stats: dict[str, Route]
) -> None:
    """One client: its own key, its own jobs, calls back to back until `until`."""
    rng = random.Random(number)
    operations: list[str] = []
    while time.monotonic() < until:
        route = rng.choices(ROUTES, WEIGHTS)[0]
        if route == "get operation" and not operations:
            route = "create"
        method, path, body = _request(route, number, rng, operations)
        started = time.perf_counter()
        try:
            response = await http.request(method, path, json=body, headers={"x-goog-api-key": key})
        except httpx.HTTPError as exc:
            stats[route].errors.append(f"{type(exc).__name__}: {exc}")
            continue
        stats[route].latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            stats[route].errors.append(f"{response.status_code} {response.text[:200]}")
        elif route == "create":
            operations.append(response.json()["name"])


def _request(
    route: str, number: int, rng: random.Random, operations: list[str]
) -> tuple[str, str, dict | None]:
    if route == "create":
        model_id = f"load-{number}-{uuid.uuid4().hex[:8]}"
        data = {"examples": {"examples": _examples(number)}}
        hyperparameters = {"epochCount": 1, "batchSize": 4}
        body = {
            "baseModel": BASE,
            "tuningTask": {"hyperparameters": hyperparameters, "trainingData": data},
        }
        return "POST", f"/v1beta/tunedModels?tunedModelId={model_id}", body
    if route == "get operation":
        return "GET", f"/v1beta/{rng.choice(operations)}", None
    if route == "list tuned models":
        return "GET", "/v1beta/tunedModels?pageSize=20", None
    prompt = {"parts": [{"text": f"Count on from {rng.randint(1, 99)}"}]}
    body = {"contents": [prompt], "generationConfig": {"maxOutputTokens": 8}}
    return "POST", f"/v1beta/{BASE}:generateContent", body


def _start_server(home: Path, database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "SINTONIA_HOME": str(home),
        "SINTONIA_DATABASE_URL": database_url,
        "SINTONIA_MODELS_DIR": str(MODELS_DIR),
        # Clients create jobs faster than one worker trains them: the queue grows, and the
        # per-user limit would answer 429 by design. This run measures the API under load.
        "SINTONIA_MAX_JOBS_PER_USER": "0",
    }
    log = (home / "server.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "sintonia.cli", "serve", "--host", "127.0.0.1"]
        + ["--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def _wait_ready(url: str, key: str, server: subprocess.Popen, home: Path) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"x-goog-api-key": key}) as http:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError((home / "server.log").read_text())
            try:
                # Warm the model once, so the first measured call doesn't pay its loading.
                body = {"contents": [{"parts": [{"text": "hi"}]}]}
                body["generationConfig"] = {"maxOutputTokens": 1}
                reply = await http.post(f"/v1beta/{BASE}:generateContent", json=body, timeout=300)
                if reply.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("server not ready after 300 s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _run(database_url: str, clients: int, seconds: float, home: Path) -> list[Summary]:
    db = Database(database_url)
    store = KeyStore(db)
    keys = [store.create(f"c{i}", f"c{i}@load.test", DEFAULT_SCOPES)[0] for i in range(clients)]
    db.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_server(home, database_url, port)
    try:
        await _wait_ready(url, keys[0], server, home)
        stats = {route: Route() for route in ROUTES}
        until = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
            await asyncio.gather(*(_client(http, i, keys[i], until, stats) for i in range(clients)))
    finally:
        server.terminate()
        server.wait(timeout=120)
    for route in ROUTES:
        if stats[route].errors:
            _samples[database_url.split(":")[0] + " " + route] = (route, stats[route].errors)
    return [_summary(route, stats[route], seconds) for route in ROUTES]


def _summary(route: str, stats: Route, seconds: float) -> Summary:
    ms = sorted(1000 * x for x in stats.latencies) or [float("nan")]
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return Summary(
        route,
        len(stats.latencies),
        len(stats.latencies) / seconds,
        statistics.median(ms),
        p99,
        len(stats.errors),
    )


def _postgres_database() -> str | None:
    """A fresh database on the PostgreSQL server, or None where none answers."""
    from sqlalchemy import create_engine, text

    name = f"sintonia_load_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(
            POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as exc:  # no server, no driver: SQLite alone
        print(f"PostgreSQL not measured: {exc}", file=sys.stderr)
        return None
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    runs: dict[str, list[Summary]] = {}
    with tempfile.TemporaryDirectory(prefix="sintonia-load-") as scratch:
        targets = {"sqlite": f"sqlite:///{scratch}/sqlite/sintonia.db"}
        if not args.sqlite_only and (url := _postgres_database()):
            targets["postgresql"] = url
        for label, url in targets.items():
            home = Path(scratch) / label
            home.mkdir(exist_ok=True)
            runs[label] = asyncio.run(_run(url, args.clients, args.seconds, home))
    _print(runs, args)
    for label, (route, stats) in _samples.items():
        print(f"{label} {route}: {len(stats)} errors, e.g. {stats[:3]}", file=sys.stderr)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({k: [asdict(s) for s in v] for k, v in runs.items()}, indent=2))
    return 1 if any(s.errors for v in runs.values() for s in v) else 0


def _print(runs: dict[str, list[Summary]], args: argparse.Namespace) -> None:
    table = Table(title=f"{args.clients} clients for {args.seconds:.0f} s on 127.0.0.1")
    for column in ("route", "database", "calls", "calls/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column in ("route", "database") else "right")
    for index, route in enumerate(ROUTES):
        for label, summaries in runs.items():
            s = summaries[index]
            table.add_row(
                route,
                label,
                str(s.calls),
                f"{s.per_second:.1f}",
                f"{s.p50_ms:.0f}",
                f"{s.p99_ms:.0f}",
                str(s.errors),
            )
        if {"sqlite", "postgresql"} <= runs.keys():
            lite, pg = runs["sqlite"][index], runs["postgresql"][index]
            ratio = pg.per_second / lite.per_second if lite.per_second else float("nan")
            table.add_row(
                "",
                "PG / SQLite",
                "",
                f"x{ratio:.2f}",
                f"x{pg.p50_ms / lite.p50_ms:.2f}",
                f"x{pg.p99_ms / lite.p99_ms:.2f}",
                "",
            )
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
