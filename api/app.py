"""The app factory: reads as a table of contents (as Redash's create_app)."""
from __future__ import annotations

from flask import Flask

from api import config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(config.from_env())
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # Chinese stays readable in every JSON answer

    from api import db, errors, rest
    import web

    db.init_app(app)
    rest.init_app(app)
    web.init_app(app)
    errors.init_app(app)  # last: JSON errors under /api win over the pages' HTML ones
    return app
