"""The `xinedai-workflow` command: serve, worker, migrate, deploy, token."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .auth.principal import ROLES
from .auth.tokens import mint_token
from .errors import ServiceError
from .settings import Settings, get_settings

log = logging.getLogger("xinedai_workflow.cli")


def _deploy(settings: Settings, paths: Sequence[Path], actor: str) -> int:
    from .container import build_services  # noqa: PLC0415 - keeps `token` fast and dependency-light
    from .definitions.service import read_bundle_dir  # noqa: PLC0415

    services = build_services(settings)
    try:
        result = services.definitions.deploy(read_bundle_dir(paths), actor)
    except ServiceError as err:
        print(
            json.dumps(
                {"error": {"code": err.code, "message": err.message, "details": err.details}},
                ensure_ascii=False,
                indent=2,
            ),
            file=sys.stderr,
        )
        return 1
    finally:
        services.db.dispose()
    status = "deployed" if result.created else "unchanged"
    print(
        json.dumps(
            {"status": status, "key": result.key, "versions": result.versions, "warnings": result.warnings},
            ensure_ascii=False,
        )
    )
    return 0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from .migrate import upgrade_head  # noqa: PLC0415

    upgrade_head(settings.database_url)
    return 0


def cmd_deploy(settings: Settings, args: argparse.Namespace) -> int:
    return _deploy(settings, [Path(p) for p in args.paths], args.actor)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    try:
        print(mint_token(settings, args.sub, args.role, args.group, args.ttl))
    except ValueError as err:
        print(f"xinedai-workflow token: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from .migrate import upgrade_head  # noqa: PLC0415

    upgrade_head(settings.database_url)
    if settings.processes_dir.is_dir() and any(settings.processes_dir.rglob("*.bpmn")):
        if _deploy(settings, [settings.processes_dir], "system:serve") != 0:
            return 1
    else:
        log.warning("no diagrams under %s; nothing deployed", settings.processes_dir)
    if args.no_worker:
        import os  # noqa: PLC0415

        os.environ["XINEDAI_WORKER_ENABLED"] = "false"
        get_settings.cache_clear()  # with one uvicorn worker the app is built in this process
    from .api.http_protocol import HeaderTimeoutH11Protocol  # noqa: PLC0415

    uvicorn.run(
        "xinedai_workflow.app:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        proxy_headers=True,
        http=HeaderTimeoutH11Protocol,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=5,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from .container import build_services  # noqa: PLC0415
    from .worker.runner import Worker  # noqa: PLC0415

    services = build_services(settings)
    worker = Worker(services)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.once:
        print(json.dumps({"done": worker.run_once()}))
        return 0
    worker.run_forever(stop)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xinedai-workflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, deploy processes/, run the API and an in-process worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.add_argument("--no-worker", action="store_true", help="do not run the in-process worker")
    serve.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a worker process only (timers, outbox); several may run")
    worker.add_argument("--once", action="store_true", help="do one round and exit")
    worker.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="upgrade the database schema (Alembic head)")
    migrate.set_defaults(func=cmd_migrate)

    deploy = sub.add_parser("deploy", help="deploy diagram files or directories")
    deploy.add_argument("paths", nargs="+")
    deploy.add_argument("--actor", default="cli")
    deploy.set_defaults(func=cmd_deploy)

    token = sub.add_parser("token", help="print a token signed with the configured secret")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", action="append", required=True, choices=ROLES)
    token.add_argument("--group", action="append", default=[])
    token.add_argument(
        "--ttl", type=int, default=None, help="seconds (default: XINEDAI_JWT_DEFAULT_TTL_SECONDS)"
    )
    token.set_defaults(func=cmd_token)
    return parser


# Libraries that log every step at INFO; their INFO lines drown ours and cost a lock per line.
CHATTY_LOGGERS = ("spiff", "alembic")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def configure_logging(level: str) -> None:
    """Our loggers at `level`; SpiffWorkflow and Alembic only from WARNING unless `level` is debug."""
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "info"))
    settings = get_settings()
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
