"""gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py`.

Everything that differs between machines comes from the environment (systemd's
`Environment=`/`EnvironmentFile=`, supervisor's `environment=`):

    CKAN_INI                      the CKAN configuration (read by deploy/wsgi.py)
    STATREQUEST_BIND              address: `127.0.0.1:8080` (default) or `unix:/run/ckan/web.sock`
    STATREQUEST_WEB_WORKERS       web processes (default: 2 x CPUs + 1, at most 8)
    STATREQUEST_WEB_TIMEOUT       seconds a request may take before its worker is replaced (120:
                                  a letter is signed with a timestamp and OCSP answers in a request)
    STATREQUEST_MAX_REQUESTS      requests after which a worker is recycled (1000; 0 = never)

bench/scale runs its web processes with this file, so what is shipped is what is load-tested.
"""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

_env = os.environ.get

pythonpath = str(Path(__file__).resolve().parent)  # deploy/wsgi.py
wsgi_app = "wsgi:application"
bind = [_env("STATREQUEST_BIND", "127.0.0.1:8080")]
workers = int(_env("STATREQUEST_WEB_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "sync"  # CKAN is a synchronous Flask app; nginx buffers slow clients
timeout = int(_env("STATREQUEST_WEB_TIMEOUT", "120"))
graceful_timeout = int(_env("STATREQUEST_GRACEFUL_TIMEOUT", "30"))
keepalive = 5  # behind nginx on the same host
max_requests = int(_env("STATREQUEST_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10  # workers do not all restart at once
preload_app = False  # each process opens its own connections (database, Redis)
# the request body limit is nginx's (deploy/nginx/statrequest.conf); these only bound headers
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = _env("STATREQUEST_FORWARDED_ALLOW_IPS", "127.0.0.1")  # nginx
proxy_allow_ips = forwarded_allow_ips
accesslog = _env("STATREQUEST_ACCESS_LOG") or None  # nginx keeps the access log
errorlog = _env("STATREQUEST_ERROR_LOG", "-")
loglevel = _env("STATREQUEST_LOG_LEVEL", "warning")
proc_name = _env("STATREQUEST_PROC_NAME", "statrequest-web")
