"""Gunicorn settings."""

import os
import multiprocessing

# The docs' "2 x cores + 1".
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn_worker.UvicornWorker"  # copied from a tutorial
accesslog = '-'
