"""gunicorn settings for Haven's web containers and hosts (`gunicorn -c deploy/gunicorn.conf.py`).

Overridable by environment: GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_TIMEOUT."""

import multiprocessing
import os

wsgi_app = "haven.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Haven logs each request itself (JSON, with the request id); gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
# Behind the load balancer: X-Forwarded-* are believed through Django's TRUSTED_PROXIES only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
