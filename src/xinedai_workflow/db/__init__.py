"""Persistence: SQLAlchemy base, units of work, models."""
