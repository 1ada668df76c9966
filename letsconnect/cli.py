"""The `letsconnect` command."""
from __future__ import annotations

import argparse
import sys

from shared.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="letsconnect", description="Let's Connect platform tooling")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the whole stack on the embedded servers")
    commands.add_parser("topics", help="create every topic and its .dlq twin on LC_KAFKA_BOOTSTRAP")
    report = commands.add_parser("report", help="the program report from every service's /stats")
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    report.add_argument("--html", default="letsconnect-report.html", help="where to write the HTML report")
    demo = commands.add_parser("demo", help="drive the running stack with a realistic, seeded population")
    demo.add_argument("--participants", type=int, default=140)
    demo.add_argument("--seed", type=int, default=2022)
    status = commands.add_parser("status", help="health, consumer lag, outbox backlog, parked messages, dead letters")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    dlq = commands.add_parser("dlq", help="dead-letter topics: list parked events, replay them after a fix")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_commands.add_parser("list", help="the events parked on TOPIC's .dlq twin, with their reasons")
    dlq_list.add_argument("topic", help="the event topic, e.g. participant-registered (or its .dlq name)")
    dlq_list.add_argument("--json", action="store_true", help="print JSON instead of text")
    dlq_list.add_argument("--show-events", action="store_true",
                          help="print each parked event in full (it may hold personal data)")
    dlq_replay = dlq_commands.add_parser("replay", help="send parked events back to TOPIC (recorded; safe to repeat)")
    dlq_replay.add_argument("topic", help="the event topic, e.g. participant-registered (or its .dlq name)")
    which = dlq_replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="an event id, or PARTITION:OFFSET of the parked record")
    which.add_argument("--all", action="store_true", help="every parked event not replayed before")
    staff = commands.add_parser("staff", help="staff accounts: bootstrap the first coordinator")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    staff_add = staff_commands.add_parser("add", help="add a named staff account through the registry API")
    staff_add.add_argument("email")
    staff_add.add_argument("--role", action="append", required=True,
                           choices=("coordinator", "working_group", "ambassador", "translator"),
                           help="a role of the account (repeat for several)")
    staff_add.add_argument("--name", help="the person's name as the console shows it")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "staff":
        from letsconnect.staff import add

        return add(settings, args.email, args.role, args.name)
    if args.command == "status":
        from letsconnect.status import run

        return run(settings, as_json=args.json)
    if args.command == "dlq":
        return _dlq(settings, args)
    if args.command == "up":
        from letsconnect.stack import up
        from shared.config import refuse_known_secrets_when_exposed

        refuse_known_secrets_when_exposed(settings, [settings.host])  # LC_HOST other than loopback
        return up(settings)
    if args.command == "topics":
        from shared.bus import ensure_topics

        ensure_topics(settings)
        print(f"topics ready on {settings.kafka_bootstrap} ({settings.partitions} partitions each)")
        return 0
    from letsconnect.client import ApiError, Platform

    platform = Platform.from_settings(settings)
    try:
        platform.wait_ready(timeout=10)
        if args.command == "report":
            return _report(platform, args)
        if args.command == "demo":
            from letsconnect.demo import run_demo

            run_demo(platform, settings, participants=args.participants, seed=args.seed)
            return 0
    except (ApiError, RuntimeError) as exc:
        print(f"letsconnect {args.command}: {exc}", file=sys.stderr)
        return 1
    return 2


def _dlq(settings, args) -> int:
    from letsconnect import dlq

    try:
        if args.dlq_command == "list":
            return dlq.run_list(settings, args.topic, as_json=args.json, show_events=args.show_events)
        return dlq.run_replay(settings, args.topic, args.id, args.all)
    except dlq.DlqError as exc:
        print(f"letsconnect dlq {args.dlq_command}: {exc}", file=sys.stderr)
        return 1


def _report(platform, args) -> int:
    import json
    from pathlib import Path

    from letsconnect import report

    stats = {service: platform.stats(service) for service in platform.urls}
    figures = report.build(stats)
    Path(args.html).write_text(report.render_html(figures, stats), encoding="utf-8")
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(report.render_table(figures))
        print(f"\nHTML report with charts: {Path(args.html).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
