"""WSGI entry point: the CKAN application of the ini file named by $CKAN_INI.

    CKAN_INI=/etc/ckan/ckan.ini gunicorn -c deploy/gunicorn.conf.py

gunicorn.conf.py names this module (`wsgi_app`) and puts deploy/ on the Python path. Each web
process imports it (no preload), so every process has its own database engine and Redis
connections.
"""
from __future__ import annotations

import os

from ckan.cli import load_config
from ckan.config.middleware import make_app

application = make_app(load_config(os.environ.get("CKAN_INI", "/etc/ckan/ckan.ini")))
