"""Who a tool call acts for (issue 32): OAuth 2.1 sign-ins to remote MCP servers.

`vault_*` keep the tokens encrypted (Fernet) in Redis or a file, `storage` lends them to the
SDK's OAuth client (`mcp.client.auth`) per server and person, `signins` and `routes` carry the
browser's redirect back to the waiting flow, `people` opens one MCP session per person for
`identity: person` servers, and `commands` gives chats `/login`, `/logout`, `/logins`.
"""
