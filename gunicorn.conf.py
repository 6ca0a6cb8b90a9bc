"""gunicorn settings for production (`make serve`). Every value comes from an
environment variable documented in the README."""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Search is CPU-bound and each worker holds its own index reader; one worker
# per core plus one keeps both cores busy without doubling memory.
workers = int(os.environ.get("ZHIBIAO_WORKERS") or multiprocessing.cpu_count() + 1)
# Threads share one GIL: measured at 10k indicators, 2 threads per worker cut
# completion throughput from 900 to 380 req/s (bench/load.py). Sync workers.
threads = int(os.environ.get("ZHIBIAO_THREADS", "1"))
timeout = int(os.environ.get("ZHIBIAO_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("ZHIBIAO_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = os.environ.get("ZHIBIAO_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("ZHIBIAO_LOG_LEVEL", "info")
# The app is created after fork, in each worker: engines, jieba and index
# readers must not be shared across processes.
preload_app = False
wsgi_app = "api.wsgi:app"


def post_worker_init(worker):
    """Warm up jieba and the current version's index before the first request."""
    try:
        from api.warmup import warm_up
    except ImportError:
        return
    warm_up(worker.wsgi)
