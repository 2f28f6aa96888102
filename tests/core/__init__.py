"""Tests of ckanext.statrequest.core: the pure workflow, calendar and numbering code."""
