"""xinedai-workflow: the staged overdue-loan workflow service."""

__version__ = "0.1.0"
