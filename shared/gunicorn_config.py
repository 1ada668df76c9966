"""What every API's gunicorn loads (`gunicorn --config=python:shared.gunicorn_config ...`, in
letsconnect/stack.py, deploy/Dockerfile and docker-compose.yml).

- access-log lines go through shared.access_log.RedactingLogger (no token in a log file);
- the master refuses to start when it would listen on anything but loopback while a signing key
  or staff token is still a default published with the code (LC_ENV=production is refused the
  same way by Settings.from_env in every process).
"""
from shared.config import Settings, refuse_known_secrets_when_exposed

logger_class = "shared.access_log.RedactingLogger"
# The portal keeps connections to the APIs alive; gunicorn's default (2 s) closed them so often
# that a request raced the close now and then. Clients idle longer than this reconnect.
keepalive = 30


def _hosts(addresses) -> list[str]:
    """gunicorn's parsed bind addresses: (host, port) pairs; unix sockets are local."""
    return [address[0] for address in addresses if isinstance(address, tuple)]


def on_starting(server) -> None:
    refuse_known_secrets_when_exposed(Settings.from_env(), _hosts(server.cfg.address))
