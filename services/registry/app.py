"""The registry API (Flask factory, served by gunicorn: services.registry.app:create_app())."""
from __future__ import annotations

import os

from flask_cors import CORS

from shared.audit_api import blp as audit_blp
from shared.config import Settings
from shared.mongo import database
from shared.web import create_service_app

from services.registry import SERVICE
from services.registry.api import blp
from services.registry.config import RegistryConfig
from services.registry.service import RegistryService
from services.registry.stats import stats
from services.registry.store import Store

# Other front ends (a community's own form, the Capacity Exchange) call these routes from their own web
# origin: browsers allow it for the origins in LC_CORS_ORIGINS (none by default). Routes that take a
# token, and staff routes, never answer CORS; credentials (cookies) are never allowed. docs/cors-form.html
PUBLIC_ROUTES = {"/participants": {"methods": ["POST"]}, "/taxonomy": {"methods": ["GET"]},
                 "/directory": {"methods": ["GET"]}}

DESCRIPTION = ("The skills directory of Let's Connect: registration against the program's eligibility "
               "checklist, profiles with consent, the topic taxonomy, the public directory and CSV imports.")


def cors_origins() -> list[str]:
    """LC_CORS_ORIGINS: comma-separated origins such as https://forms.example.org (scheme, host, port)."""
    return [o.strip().rstrip("/") for o in os.environ.get("LC_CORS_ORIGINS", "").split(",") if o.strip()]


def create_app(settings: Settings | None = None, config: RegistryConfig | None = None,
               origins: list[str] | None = None):
    """`origins`: the web origins whose pages may call the public routes (default: LC_CORS_ORIGINS)."""
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE))
    service = RegistryService(store, settings, config or RegistryConfig.from_env())
    app = create_service_app(SERVICE, settings, store.db, blueprints=[blp, audit_blp], stats=lambda: stats(store),
                             description=DESCRIPTION, prepare=store.ensure_indexes,
                             token_status=service.token_status, use_cases=service)
    origins = cors_origins() if origins is None else origins
    if origins:
        CORS(app, resources=PUBLIC_ROUTES, origins=origins, allow_headers=["Content-Type", "Accept-Language"],
             supports_credentials=False, max_age=600)
    return app
