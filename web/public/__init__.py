"""The public pages: browsing and searching the library, drafting a target table, quota standards, the
plan's progress, proposing an indicator, evaluation rounds. No login; forms carry CSRF tokens.

The blueprints are web.public.blueprint's `bp` and `rounds_bp`; each module below adds its routes to one of
them, and the app factory registers both (server.app).
"""
from web.public import browse, drafting, plan, propose, quotas, rounds, search  # noqa: F401  (routes)
from web.public.blueprint import bp, rounds_bp

__all__ = ["bp", "rounds_bp"]
