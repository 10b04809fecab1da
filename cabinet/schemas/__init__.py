"""Colander schemas for API bodies and forms."""
