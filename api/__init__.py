"""The app factory, the REST API (flask-smorest) and the `zhibiao` command."""
from api.app import create_app

__all__ = ["create_app"]
