"""A complete RFC 7208 SPF evaluator: check_host() as a receiving mail server runs it."""
