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
    args = parser.parse_args(argv)
    settings = Settings.from_env()
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
