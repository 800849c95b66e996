"""The ``vectis`` command line."""
