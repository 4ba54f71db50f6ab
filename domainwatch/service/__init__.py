"""Domain management as one service with three front doors: the JSON API (web/api.py), the
MCP tools (mcp_server/) and, through the API, the `domainwatch domains` commands.

domains.py holds the rules every door shares (who may write what, sharding, ETags,
idempotency); backend.py is the tools' view of it, in the daemon or over HTTP (client.py).
"""
