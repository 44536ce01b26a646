"""Gunicorn settings."""

import multiprocessing

# The docs' "2 x cores + 1".
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "uvicorn.workers.UvicornWorker"  # copied from a tutorial
accesslog = '/var/log/app/access.log'
