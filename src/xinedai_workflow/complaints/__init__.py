"""Complaints about the collection (from the bank's complaint system)."""
