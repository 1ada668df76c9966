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
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "up":
        from letsconnect.stack import up

        return up(settings)
    if args.command == "topics":
        from shared.bus import ensure_topics

        ensure_topics(settings)
        print(f"topics ready on {settings.kafka_bootstrap} ({settings.partitions} partitions each)")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
