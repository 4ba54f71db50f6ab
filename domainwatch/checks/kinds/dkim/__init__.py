"""DKIM key records (RFC 6376, 8301, 8463): the kind, the key record and the tag-list syntax."""
