"""Batch operations over many cases: migrate, cancel, retry, message, pause/resume contact."""
