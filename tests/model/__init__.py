"""Tests of ckanext.statrequest.model: tables and migrations."""
