"""Security primitives behind ports: password hashing, sealing secrets, key derivation."""
