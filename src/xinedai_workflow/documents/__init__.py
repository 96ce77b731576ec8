"""Rendered documents (PDF). Uses reportlab; the domain package stays framework-free."""

from xinedai_workflow.documents.letter_pdf import render_demand_letter_pdf

__all__ = ["render_demand_letter_pdf"]
