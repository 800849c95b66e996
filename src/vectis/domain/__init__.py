"""The Vectis domain: plain attrs models, rules and ports, free of frameworks and I/O."""
