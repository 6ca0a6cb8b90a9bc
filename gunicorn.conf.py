"""gunicorn settings for production (`make serve`). Every value comes from an
environment variable documented in the README."""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Search is CPU-bound and each worker holds its own index reader; one worker
# per core plus one keeps both cores busy without doubling memory.
workers = int(os.environ.get("ZHIBIAO_WORKERS") or multiprocessing.cpu_count() + 1)
# read by the app in each worker: rate limits counted in memory are shared out among the workers
os.environ["ZHIBIAO_WORKER_PROCESSES"] = str(workers)
# Slow clients (server/workers.py): each worker's threads wait on the network with
# timeouts (ZHIBIAO_READ_TIMEOUT per read, ZHIBIAO_REQUEST_DEADLINE per request),
# while only ZHIBIAO_APP_SLOTS of them run the app at once: threads share one
# GIL, and 2 threads on CPU-bound search cut a worker's throughput by half.
worker_class = os.environ.get("ZHIBIAO_WORKER_CLASS", "server.workers.ThreadWorker")  # "sync": the old setup
# 100 threads: 50 stalled clients leave room for everyone else (tests/test_slow_clients.py)
threads = int(os.environ.get("ZHIBIAO_THREADS", "100"))
timeout = int(os.environ.get("ZHIBIAO_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("ZHIBIAO_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = os.environ.get("ZHIBIAO_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("ZHIBIAO_LOG_LEVEL", "info")
# The app is created after fork, in each worker: engines, jieba and index
# readers must not be shared across processes.
preload_app = False
wsgi_app = "server.wsgi:app" if worker_class == "sync" else "server.wsgi:application"


def post_worker_init(worker):
    """Warm up jieba and the current version's index before the first request."""
    try:
        from server.warmup import warm_up
    except ImportError:
        return
    warm_up(getattr(worker.wsgi, "app", worker.wsgi))
