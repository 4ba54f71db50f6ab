"""Prometheus metrics: instruments.py (counters the daemon and the webhook worker write to) and
exposition.py (collectors reading a read-only fleet view at scrape time; the per-domain
families are listed in families.py and kept between scrapes by domain_text.py)."""
