"""Application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.accounts import init_token_revocation
from app.analysis import UnknownAnalysis, resolve_analyses
from app.api import build_api_blueprint
from app.api.bench import init_bench_endpoints
from app.api.cors import init_cors
from app.api.errors import register_error_handlers
from app.api.request_bodies import init_request_bodies
from app.api.throttles import init_trusted_proxies
from app.celery_app import celery_init_app
from app.extensions import db, jwt, limiter, migrate
from app.logging_setup import configure_logging, log_effective_config
from app.observability import init_observability
from app.security_headers import init_security_headers
from app.web import bp as web_bp
from config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app, its extensions, blueprints, error handlers and Celery app."""
    config = config or Config()
    problems = config.problems()
    try:
        config.DEFAULT_ANALYSES = resolve_analyses(config.DEFAULT_ANALYSES)
    except UnknownAnalysis as error:
        problems.append(f"DEFAULT_ANALYSES: {error}")
    if problems:
        raise RuntimeError("Configuration refused: " + " ".join(problems))

    configure_logging(config.LOG_FORMAT)
    app = Flask(__name__)
    app.config.from_object(config)
    app.json.sort_keys = False

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    jwt.init_app(app)
    init_token_revocation(app)
    limiter.init_app(app)
    init_trusted_proxies(app)

    app.register_blueprint(build_api_blueprint())
    app.register_blueprint(web_bp)
    init_bench_endpoints(app)
    register_error_handlers(app)
    init_observability(app)
    init_request_bodies(app)  # after the request id and timer: a refused body is logged and counted
    init_cors(app)
    init_security_headers(app)
    celery_init_app(app)
    from app import tasks  # noqa: F401 - registers the tasks on the Celery app

    log_effective_config(app)
    return app
