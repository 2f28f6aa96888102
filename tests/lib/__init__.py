"""Tests of ckanext.statrequest.lib: statistics, notifications, delivery, long-term signatures."""
