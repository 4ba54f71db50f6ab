"""The MCP tools (tools.py), served by the daemon at /mcp (web/mcp.py) and on stdio by
`domainwatch mcp` (cli/mcp.py)."""
