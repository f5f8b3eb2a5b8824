"""Alembic migrations of Sintonia's database (see README.md); a package so that installs ship it."""
