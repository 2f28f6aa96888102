"""Tests of the `ckan statrequest ...` commands (cli.py and commands/)."""
