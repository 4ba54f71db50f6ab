"""DMARC (RFC 9989, 9990): the kind, the record and report authorization."""
