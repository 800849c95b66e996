"""A loopback stand-in for vendor clouds: the same paths, auth, pagination and payload shapes.

Vectis imports it only from ``vectis demo`` and the tests; it imports nothing from Vectis.
"""
