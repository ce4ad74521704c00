"""Figures, the Markdown summary and the HTML report."""
