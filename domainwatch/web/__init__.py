"""The aiohttp application: probes, /metrics, the JSON API, the webhook admin API and the status
page (jinja2 templates, autoescaped)."""
