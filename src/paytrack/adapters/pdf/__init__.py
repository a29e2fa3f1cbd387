"""Documents rendered as PDF (fpdf2)."""
