"""The curator workspace at /curator: login, and the pages that maintain the draft, publish versions and
keep the three-year plan.

Every route needs a signed-in account (made by `zhibiao user create`); admin-only actions say so with
@admin_required. Every form carries a CSRF token. The blueprint is web.curator.blueprint.bp; each module below
adds its routes to it, and the app factory registers it (server.app).
"""
from web.curator import (case_imports, cases, draft, home, imports, lint, plan, proposals, systems,  # noqa: F401
                         versions)
from web.curator.blueprint import bp

__all__ = ["bp"]
