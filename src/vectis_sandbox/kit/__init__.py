"""The sandbox kit: what every sandboxed vendor is built from instead of writing it again."""
