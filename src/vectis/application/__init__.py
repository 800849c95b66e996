"""Use cases: each runs in one unit of work and speaks to the world only through ports."""
