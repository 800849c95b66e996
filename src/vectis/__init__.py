"""Vectis: one screen per customer for managed IT service providers."""

__version__ = "0.1.0"
