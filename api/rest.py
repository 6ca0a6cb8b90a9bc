"""The REST layer: flask-smorest Api and the /api/v1 blueprints."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

api = Api()


def init_app(app: Flask) -> None:
    from api.v1 import versions

    api.init_app(app)
    api.register_blueprint(versions.blp)
