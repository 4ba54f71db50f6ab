"""SPF (RFC 7208): the kind, its findings and the fix that resolves them."""
