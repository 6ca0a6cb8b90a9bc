"""Pages for drafters and curators (Jinja templates, local static assets)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from web import pages, security

    security.init_app(app)
    app.register_blueprint(pages.bp)
