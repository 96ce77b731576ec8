"""Deploying and reading process definitions (diagram bundles, versioned per process key)."""
