"""Reports: collection KPIs for the review stage and management."""
