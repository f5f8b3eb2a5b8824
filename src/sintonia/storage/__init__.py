"""Persistence: database tables and sessions, tuned-model records, artifact folders."""
