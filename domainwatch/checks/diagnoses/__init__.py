"""Not verifying? Try this: where a missing or wrong record was probably put by mistake (pure)."""
