"""Validation schemas of the actions, one module per feature (as ``logic/action``)."""
