"""What every page carries: a CSRF token on every form POST (flask-wtf), and headers that keep the
page to its own origin (CSP `default-src 'self'`: no inline script or style, nothing from another
host), out of frames, and its address out of other sites' logs."""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

CONTENT_SECURITY_POLICY = ("default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
                           "object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

csrf = CSRFProtect()


def init_security(app: Flask, secret_key: str, secure_cookies: bool) -> None:
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="lc_portal",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        # A long registration form must not expire under a slow typist: the token lives as long
        # as the browser session that holds it.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure_cookies,
    )
    csrf.init_app(app)

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
