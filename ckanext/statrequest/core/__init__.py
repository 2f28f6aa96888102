"""Domain core of ckanext-statrequest: workflow engine, working-day calendar, numbering.

Plain Python on purpose (stdlib, PyYAML, holidays, zoneinfo only): no CKAN, Flask or
SQLAlchemy, so the rules can be read and tested on their own.
"""
