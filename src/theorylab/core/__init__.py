"""Shared machinery of theorylab; nothing study-specific lives here."""
