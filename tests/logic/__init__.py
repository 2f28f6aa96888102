"""Tests of ckanext.statrequest.logic: the actions and auth functions, as the API calls them."""
