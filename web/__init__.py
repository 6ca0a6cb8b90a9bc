"""Pages for drafters and curators (Jinja templates, local static assets)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from web import pages

    app.register_blueprint(pages.bp)
