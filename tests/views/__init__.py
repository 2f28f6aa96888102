"""Tests of ckanext.statrequest.views: the portal pages through CKAN's test client."""
