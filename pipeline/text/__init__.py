"""Text: clean and redact ticket text (and every other written column) before anything sees it."""
