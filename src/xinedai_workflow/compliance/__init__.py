"""Compliance guardrails below the diagrams: contact policy, template lint, retention, report."""
