"""The app as a whole: the factory (server.app.create_app) that joins the REST API (api/) and the pages
(web/), its configuration, the database session per request, what every request goes through (rate limits,
text checks, uploads), and serving it (WSGI entry points, the gunicorn worker, warm-up)."""
