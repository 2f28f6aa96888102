"""WSGI entry point for gunicorn: the CKAN app of the ini file named by $SCALE_INI.

    SCALE_INI=/path/scale.ini gunicorn --workers 4 --bind 127.0.0.1:5100 bench.scale.wsgi:application

Each gunicorn worker imports this module (no --preload), so every process has its own
database engine and Redis connections, as in a production deployment.
"""
from __future__ import annotations

import os

from ckan.cli import load_config
from ckan.config.middleware import make_app

application = make_app(load_config(os.environ["SCALE_INI"]))
