"""The tamper-evident, append-only case history."""
