"""WSGI entry points for gunicorn (gunicorn.conf.py):

- `application`: the app behind server.workers.BufferedRequests (bodies read whole,
  at most ZHIBIAO_APP_SLOTS requests in the app per worker), served by
  server.workers.ThreadWorker;
- `app`: the bare Flask app (`gunicorn server.wsgi:app` with sync workers).
"""
import os

from server.app import create_app
from server.workers import BufferedRequests

app = create_app()
application = BufferedRequests(app, slots=int(os.environ.get("ZHIBIAO_APP_SLOTS", "1")),
                               max_bytes=app.config["MAX_CONTENT_LENGTH"])
