"""Printing documents and certificates as PDF: one template (sheet.py) for every kind, the hall's seal drawn on it
(seal.py), a Chinese font embedded as a subset (fonts.py). Imports nothing from the window rules: it prints the
content a document or certificate was issued with."""
