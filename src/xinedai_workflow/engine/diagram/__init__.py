"""BPMN diagram geometry: the layout check and the automatic layouter (lxml only, no SpiffWorkflow)."""
