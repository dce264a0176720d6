"""Gunicorn settings for one CareCircle app host behind nginx (docs/deployment.md).

    gunicorn -c docs/deploy/gunicorn.conf.py wsgi:app

Everything can be changed per host from the environment without editing this file:
GUNICORN_BIND (default 127.0.0.1:8000, only nginx talks to it), WEB_CONCURRENCY (worker
processes, default two per core), GUNICORN_TIMEOUT (seconds). tests/scale starts its two app
hosts with this file, so it is known to work.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: a request holds its worker until it has answered. The app is CPU-bound Python
# with short SQL, so more processes than cores only add memory; two per core cover the time
# spent waiting on PostgreSQL. Each worker holds its own SQLAlchemy pool (5 + 10 overflow), so
# hosts x workers x 15 is the most client connections PgBouncer must accept.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "sync"

# A request that takes longer than this is killed and logged (a stuck query, a deadlock):
# every page answers in well under a second (docs/performance.md).
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# SIGTERM (a rolling restart): finish the requests in flight, then exit.
graceful_timeout = 30

# Recycle each worker after about a thousand requests (spread so they do not all restart at
# once): whatever a long-lived process accumulates is given back.
max_requests = 1000
max_requests_jitter = 100

# Request limits before the app sees anything (nginx enforces them too).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# nginx writes the access log, with one-time link tokens taken out of the paths (nginx.conf);
# gunicorn's own log carries errors and worker restarts only, to stderr for the journal.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# X-Forwarded-* are read by the app itself, from as many proxies as TRUSTED_PROXY_COUNT says
# (werkzeug's ProxyFix): gunicorn passes them on untouched.
forwarded_allow_ips = "127.0.0.1"

# Gunicorn 27's control socket (`gunicornc`) has one default path per user, so a second server
# on the same machine (a blue/green switch, the tests) would take it over. Nothing here uses it;
# newer settings that an older gunicorn does not know are ignored.
control_socket_disable = True
