"""Credentials, scopes and who may do what; no web imports."""
