"""Issue 12 in shared/, without I/O: known secrets refused outside a local setting, abuse-limit
settings, the client address behind proxies, tokens kept out of access-log lines."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from letsconnect.cli import main as cli_main
from shared.access_log import RedactingLogger, redact
from shared.config import Settings, known_secrets_in_use, refuse_known_secrets_when_exposed
from shared.gunicorn_config import _hosts, on_starting
from shared.ratelimit import client_address

OWN = {"LC_SECRET_KEYS": "k1:9f2c4e7a1b3d5f6080a1c2e3f4a5b6c7", "LC_STAFF_TOKENS": "3b8e1f0c9d7a6b5e4f3a2b1c:coordinator"}


@pytest.fixture
def env(monkeypatch):
    for name in ("LC_ENV", "LC_SECRET_KEYS", "LC_SECRET_KEY", "LC_STAFF_TOKENS", "LC_HOST", "LC_TRUSTED_PROXIES",
                 "LC_RATE_LIMIT_PER_ADDRESS", "LC_RATE_LIMIT_PER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_local_defaults_are_known_secrets():
    assert known_secrets_in_use(Settings()) == ["LC_SECRET_KEYS (or LC_SECRET_KEY)", "LC_STAFF_TOKENS"]
    assert known_secrets_in_use(Settings(secret_keys={"k1": "change-me"}, staff_tokens=("x" * 30,))) == [
        "LC_SECRET_KEYS (or LC_SECRET_KEY)"]
    assert known_secrets_in_use(Settings(secret_keys={"k1": "z" * 40},
                                         staff_tokens=("change-me-staff-token:translator",))) == ["LC_STAFF_TOKENS"]


def test_production_refuses_to_start_on_a_known_secret_naming_the_variable(env):
    env.setenv("LC_ENV", "production")
    with pytest.raises(SystemExit, match="LC_SECRET_KEYS .*LC_STAFF_TOKENS"):
        Settings.from_env()
    env.setenv("LC_SECRET_KEYS", OWN["LC_SECRET_KEYS"])
    with pytest.raises(SystemExit, match="LC_STAFF_TOKENS"):
        Settings.from_env()
    env.setenv("LC_STAFF_TOKENS", OWN["LC_STAFF_TOKENS"])
    assert Settings.from_env().environment == "production"


def test_listening_beyond_loopback_is_not_a_local_setting(env):
    local = Settings()
    for host in ("127.0.0.1", "::1", "localhost", "[::1]", "127.0.0.53"):
        refuse_known_secrets_when_exposed(local, [host])
    for host in ("0.0.0.0", "::", "192.168.1.20", "letsconnect.example.org"):
        with pytest.raises(SystemExit, match="LC_SECRET_KEYS"):
            refuse_known_secrets_when_exposed(local, [host])
    refuse_known_secrets_when_exposed(Settings(secret_keys={"k1": "z" * 40}, staff_tokens=("y" * 30,)), ["0.0.0.0"])


def test_gunicorn_refuses_a_public_bind_with_known_secrets(env):
    config = Config()
    config.set("bind", ["0.0.0.0:8001", "unix:/run/api.sock"])
    assert _hosts(config.address) == ["0.0.0.0"]
    with pytest.raises(SystemExit, match="listening on 0.0.0.0.*LC_SECRET_KEYS"):
        on_starting(SimpleNamespace(cfg=config))
    config.set("bind", ["127.0.0.1:8001"])
    on_starting(SimpleNamespace(cfg=config))


def test_letsconnect_up_refuses_a_public_host_before_starting_anything(env):
    env.setenv("LC_HOST", "0.0.0.0")
    with pytest.raises(SystemExit, match="LC_STAFF_TOKENS"):
        cli_main(["up"])


def test_abuse_limits_are_off_locally_on_in_production_and_settable(env):
    assert (Settings.from_env().rate_limit_per_address, Settings.from_env().rate_limit_per_email) == ("", "")
    env.setenv("LC_RATE_LIMIT_PER_EMAIL", "3/hour;10/day")
    assert Settings.from_env().rate_limit_per_email == "3/hour;10/day"
    for name, value in OWN.items():
        env.setenv(name, value)
    env.setenv("LC_ENV", "production")
    assert Settings.from_env().rate_limit_per_address == "30/hour;200/day"
    env.setenv("LC_RATE_LIMIT_PER_ADDRESS", "off")
    assert Settings.from_env().rate_limit_per_address == ""
    env.setenv("LC_RATE_LIMIT_PER_ADDRESS", "lots")
    with pytest.raises(SystemExit, match="LC_RATE_LIMIT_PER_ADDRESS"):
        Settings.from_env()
    env.setenv("LC_RATE_LIMIT_PER_ADDRESS", "5/minute")
    env.setenv("LC_TRUSTED_PROXIES", "10.0.0.0/8, not-an-address")
    with pytest.raises(SystemExit, match="LC_TRUSTED_PROXIES"):
        Settings.from_env()


@pytest.mark.parametrize("peer, forwarded, trusted, client", [
    ("203.0.113.5", None, (), "203.0.113.5"),
    ("203.0.113.5", "198.51.100.1", (), "203.0.113.5"),                              # not a proxy: ignored
    ("203.0.113.5", "198.51.100.1", ("10.0.0.0/8",), "203.0.113.5"),
    ("10.0.0.2", "198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),          # the client's own claim
    ("10.0.0.2", "198.51.100.1, 10.0.0.9", ("10.0.0.0/8",), "198.51.100.1"),         # two proxies
    ("10.0.0.2", "10.0.0.7, 10.0.0.9", ("10.0.0.0/8",), "10.0.0.7"),
    ("10.0.0.2", "198.51.100.1, garbage", ("10.0.0.0/8",), "10.0.0.2"),             # a broken hop: nobody believed
    ("::1", "2001:db8::7", ("::1",), "2001:db8::7"),
    (None, "198.51.100.1", ("10.0.0.0/8",), "unknown"),
])
def test_the_client_address_comes_from_x_forwarded_for_only_through_trusted_proxies(peer, forwarded, trusted, client):
    assert client_address(peer, forwarded, trusted) == client


TOKEN = "lc1.eyJ0eXAiOiJsaW5rIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize("line, kept", [
    (f"GET /matches/m1?token={TOKEN}&x=1 HTTP/1.1", "GET /matches/m1?token=[redacted]&x=1 HTTP/1.1"),
    (f"GET /unsubscribe?category=digest&token={TOKEN} HTTP/1.1", "GET /unsubscribe?category=digest&token=[redacted] HTTP/1.1"),
    (f"https://portal.example.org/sign-in/complete?Token={TOKEN}", "https://portal.example.org/sign-in/complete?Token=[redacted]"),
    ("POST /x?access_token=abc&signature=def", "POST /x?access_token=[redacted]&signature=[redacted]"),
    (f"Bearer {TOKEN}", "Bearer [redacted]"), (f"path/{TOKEN}/x", "path/lc1.[redacted]/x"),
    ("GET /directory?topic=tokenisation HTTP/1.1", "GET /directory?topic=tokenisation HTTP/1.1"),
])
def test_tokens_never_reach_a_log_line(line, kept):
    assert redact(line) == kept


def test_the_gunicorn_access_logger_redacts_every_atom():
    logger = RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/clinics/c1?token={TOKEN}", "SERVER_PROTOCOL": "HTTP/1.1",
               "QUERY_STRING": f"token={TOKEN}", "PATH_INFO": "/clinics/c1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": f"https://portal.example.org/clinics/c1?token={TOKEN}"}
    response = SimpleNamespace(status="200 OK", headers=[("Content-Type", "text/html")], sent=10)
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {TOKEN}"), ("COOKIE", "session=abc")])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    assert TOKEN not in repr(atoms) and "session=abc" not in repr(atoms)
    assert atoms["r"] == "GET /clinics/c1?token=[redacted] HTTP/1.1" and atoms["U"] == "/clinics/c1"
