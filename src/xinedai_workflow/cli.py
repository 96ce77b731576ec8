"""The `xinedai-workflow` command: serve, worker, migrate, deploy, token, migrate-cases, batch, simulate,
diagram-check, diagram-layout."""

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
    from .bootstrap import build_services  # noqa: PLC0415 - keeps `token` fast and dependency-light
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


def cmd_diagram_check(_settings: Settings, args: argparse.Namespace) -> int:
    """Print the layout findings of each file; exit 1 when any file has one."""
    from .engine.diagram.check import count_by_kind  # noqa: PLC0415
    from .engine.diagram.document import DiagramUnreadable, check_file  # noqa: PLC0415

    status = 0
    for name in args.files:
        path = Path(name)
        try:
            findings = check_file(path.read_bytes(), path.name)
        except (OSError, DiagramUnreadable) as err:
            print(f"xinedai-workflow diagram-check: {name}: {err}", file=sys.stderr)
            return 2
        counts = {kind: n for kind, n in count_by_kind(findings).items() if n}
        print(json.dumps({"file": name, "counts": counts}, ensure_ascii=False))
        if args.verbose:
            for finding in findings:
                print(json.dumps(finding.to_dict(), ensure_ascii=False))
        status = status or (1 if findings else 0)
    return status


def cmd_diagram_layout(_settings: Settings, args: argparse.Namespace) -> int:
    """Recompute the DI of each file in place (or into --output) and print what the check finds."""
    from .engine.diagram.check import count_by_kind  # noqa: PLC0415
    from .engine.diagram.document import DiagramUnreadable, check_file, layout_file  # noqa: PLC0415

    if args.output and len(args.files) != 1:
        print("xinedai-workflow diagram-layout: --output takes one file", file=sys.stderr)
        return 2
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            before = check_file(path.read_bytes(), path.name)
            laid_out = layout_file(path.read_bytes(), path.name)
        except (OSError, DiagramUnreadable) as err:
            print(f"xinedai-workflow diagram-layout: {name}: {err}", file=sys.stderr)
            return 2
        after = check_file(laid_out, path.name)
        target = Path(args.output) if args.output else path
        target.write_bytes(laid_out)
        print(
            json.dumps(
                {
                    "file": str(target),
                    "before": {k: n for k, n in count_by_kind(before).items() if n},
                    "after": {k: n for k, n in count_by_kind(after).items() if n},
                },
                ensure_ascii=False,
            )
        )
        status = status or (1 if after else 0)
    return status


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from .db.schema_upgrade import upgrade_schema  # noqa: PLC0415

    upgrade_schema(settings.database_url)
    return 0


def cmd_deploy(settings: Settings, args: argparse.Namespace) -> int:
    return _deploy(settings, [Path(p) for p in args.paths], args.actor)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    try:
        print(mint_token(settings, args.sub, args.role, args.group, args.ttl, agency=args.agency))
    except ValueError as err:
        print(f"xinedai-workflow token: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from .db.schema_upgrade import upgrade_schema  # noqa: PLC0415

    upgrade_schema(settings.database_url)
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
    from .bootstrap import build_services, build_worker  # noqa: PLC0415

    worker = build_worker(build_services(settings))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.once:
        print(json.dumps({"done": worker.run_once()}))
        return 0
    worker.run_forever(stop)
    return 0


def _print(body: object) -> None:
    print(json.dumps(body, ensure_ascii=False, default=str, indent=2))


def _error(err: ServiceError) -> int:
    body = {"error": {"code": err.code, "message": err.message, "details": err.details}}
    print(json.dumps(body, ensure_ascii=False, default=str, indent=2), file=sys.stderr)
    return 1


def cmd_migrate_cases(settings: Settings, args: argparse.Namespace) -> int:
    import uuid  # noqa: PLC0415

    from .batches.console import follow, migrate_cases, parse_mapping, runner_step  # noqa: PLC0415
    from .bootstrap import build_services  # noqa: PLC0415

    try:
        mapping = parse_mapping(args.map)
    except ValueError as err:
        print(f"xinedai-workflow migrate-cases: {err}", file=sys.stderr)
        return 2
    services = build_services(settings)
    try:
        answer = migrate_cases(
            services.batches, args.key, args.from_version, args.to_version, mapping, args.dry_run
        )
        if args.dry_run or args.detach or not answer.get("total"):
            _print(answer)
            return 0
        runner = services.worker_parts().batches
        step = runner_step(runner, f"cli:{uuid.uuid4().hex[:8]}") if runner is not None else None
        view = follow(services.batches, uuid.UUID(answer["batch_id"]), step)
        _print(view)
        return 0 if view["failed"] == 0 else 1
    except ServiceError as err:
        return _error(err)
    finally:
        services.db.dispose()


def cmd_batch_status(settings: Settings, args: argparse.Namespace) -> int:
    import uuid  # noqa: PLC0415

    from .batches.console import OPERATOR, follow  # noqa: PLC0415
    from .bootstrap import build_services  # noqa: PLC0415

    try:
        batch_id = uuid.UUID(args.batch_id)
    except ValueError:
        print(f"xinedai-workflow batch status: {args.batch_id!r} is not a batch id", file=sys.stderr)
        return 2
    services = build_services(settings)
    try:
        view = follow(services.batches, batch_id) if args.watch else services.batches.get(OPERATOR, batch_id)
        _print(view)
        return 0
    except ServiceError as err:
        return _error(err)
    finally:
        services.db.dispose()


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    if args.calibrate_from_db:
        from .simulation.calibrate import run_calibration  # noqa: PLC0415

        return run_calibration(settings, args)
    from .bootstrap import build_services  # noqa: PLC0415
    from .simulation.command import run  # noqa: PLC0415 - matplotlib and the engine load only here

    return run(args, build_services)


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    import getpass  # noqa: PLC0415

    from .web.users import UserFileError, add_user  # noqa: PLC0415 - argon2 only for this command

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("xinedai-workflow user add: the passwords differ", file=sys.stderr)
            return 2
    try:
        add_user(settings.web_users_file, args.username, password, args.role, args.group, args.name)
    except UserFileError as err:
        print(f"xinedai-workflow user add: {err}", file=sys.stderr)
        return 2
    print(f"{args.username} saved in {settings.web_users_file}")
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

    check = sub.add_parser(
        "diagram-check", help="the layout check of .bpmn files (flows through shapes, overlaps, missing DI)"
    )
    check.add_argument("files", nargs="+")
    check.add_argument("--verbose", "-v", action="store_true", help="print every finding")
    check.set_defaults(func=cmd_diagram_check)

    layout = sub.add_parser(
        "diagram-layout", help="recompute the diagram (DI) of .bpmn files: lanes, layers, routed flows"
    )
    layout.add_argument("files", nargs="+")
    layout.add_argument("--output", "-o", default=None, help="write here instead of in place (one file)")
    layout.set_defaults(func=cmd_diagram_layout)

    from .simulation.command_args import HELP, add_arguments  # noqa: PLC0415

    simulate = sub.add_parser(
        "simulate",
        help="what-if: run synthetic cases through a bundle (and --against another) on a scratch database",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate)

    token = sub.add_parser("token", help="print a token signed with the configured secret")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", action="append", required=True, choices=ROLES)
    token.add_argument("--group", action="append", default=[])
    token.add_argument("--agency", default=None, help="the agency id (claim `agency`; agency_collector)")
    token.add_argument(
        "--ttl", type=int, default=None, help="seconds (default: XINEDAI_JWT_DEFAULT_TTL_SECONDS)"
    )
    token.set_defaults(func=cmd_token)

    move = sub.add_parser(
        "migrate-cases",
        help="move the running cases of a process version to another version (a migrate batch, "
        "run here with a progress bar; running workers share it)",
    )
    move.add_argument("--key", required=True, help="process key")
    move.add_argument("--from", dest="from_version", type=int, required=True, help="the cases' version")
    move.add_argument("--to", dest="to_version", type=int, required=True, help="the target version")
    move.add_argument(
        "--map", action="append", default=[], metavar="OLD=NEW", help="element renamed in the new version"
    )
    move.add_argument("--dry-run", action="store_true", help="print the count and a sample's reports")
    move.add_argument("--detach", action="store_true", help="create the batch and leave it to the workers")
    move.set_defaults(func=cmd_migrate_cases)

    batch = sub.add_parser("batch", help="batch operations")
    batch_sub = batch.add_subparsers(dest="batch_command", required=True)
    batch_status = batch_sub.add_parser("status", help="print a batch's progress")
    batch_status.add_argument("batch_id")
    batch_status.add_argument("--watch", action="store_true", help="follow it until it ends")
    batch_status.set_defaults(func=cmd_batch_status)
    user = sub.add_parser("user", help="local sign-in users of the workbench (XINEDAI_WEB_USERS_FILE)")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add or replace a user (password asked, or read from stdin)")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=ROLES)
    add.add_argument("--group", action="append", default=[])
    add.add_argument("--name", default=None, help="display name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=cmd_user_add)
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
    if numeric <= logging.DEBUG:  # SpiffWorkflow's task lines and their data (engine/spiff_logging.py)
        from .engine import configure_spiff_logging  # noqa: PLC0415 - keeps `token` light

        configure_spiff_logging(debug=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "info"))
    settings = get_settings()
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
