"""Config reload: validate first, keep the running config when the new one is invalid."""

from __future__ import annotations

import logging

from orchestrator.config import load_config
from orchestrator.errors import ConfigError
from orchestrator.services import AppHost

log = logging.getLogger(__name__)


async def reload_config(app: AppHost) -> str:
    """Re-read the config file; restart the tool servers only if their section changed."""
    try:
        new = load_config(app.config.source or None)
    except ConfigError as exc:
        log.warning("config_reload_rejected problems=%d", len(exc.problems))
        return "The new config is invalid; still running the old one:\n" + "\n".join(exc.problems)
    servers_changed = new.mcp_servers != app.config.mcp_servers
    factory = app.services.hub_factory
    if servers_changed and factory is not None:
        await app.services.hub.stop()
        app.services.hub = factory(new)
        await app.services.hub.start()
    app.config = new
    log.info("config_reloaded servers_changed=%s", servers_changed)
    return "Config reloaded" + (" and tool servers restarted." if servers_changed else ".")
