"""Tuning jobs: a durable queue in the database, and the worker that runs them."""
