"""Pages for drafters and curators (Jinja templates, local static assets)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from web import pages, round_pages, security
    # these add their routes to pages.bp, so they are imported before it is registered
    from web import drafting, quota_pages, search_pages  # noqa: F401
    from web import curator, pages_plan, pages_propose  # noqa: F401  (pages_* add routes to pages.bp)

    security.init_app(app)
    curator.init_app(app)
    pages_propose.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(round_pages.bp)
    app.register_blueprint(curator.bp)
