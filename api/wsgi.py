"""WSGI entry points for gunicorn (gunicorn.conf.py):

- `application`: the app behind api.workers.BufferedRequests (bodies read whole,
  at most ZHIBIAO_APP_SLOTS requests in the app per worker), served by
  api.workers.ThreadWorker;
- `app`: the bare Flask app (`gunicorn api.wsgi:app` with sync workers).
"""
import os

from api.app import create_app
from api.workers import BufferedRequests

app = create_app()
application = BufferedRequests(app, slots=int(os.environ.get("ZHIBIAO_APP_SLOTS", "1")),
                               max_bytes=app.config["MAX_CONTENT_LENGTH"])
