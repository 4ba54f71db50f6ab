"""Record checks: one module per record kind (base.py says what a kind is), listed in registry.py;
runner.py resolves what the kinds ask for and evaluates (the only async module here)."""
