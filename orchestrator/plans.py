"""A request's agent loop, and the plans it pauses: resume one when Run all / Cancel is
pressed, or say ahead which tools a request would need approved (for schedules)."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from orchestrator.commands.builtin import run_target
from orchestrator.commands.model_tools import builtin_tools
from orchestrator.commands.registry import split_command
from orchestrator.config import Config
from orchestrator.errors import LLMError
from orchestrator.llm.agent import AgentLoop, LoopLimits
from orchestrator.llm.approvals import ApprovalRules
from orchestrator.mcp.names import ToolNameMap
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.policy import tool_allowed
from orchestrator.recollection import embed, remember
from orchestrator.results import record_answer, result_replies
from orchestrator.services import AppHost, Services
from orchestrator.sessions.model import PendingConfirmation
from orchestrator.toolset import ChatTools


class PlanHost(AppHost, Protocol):
    toolset: ChatTools


def agent_loop(
    config: Config, services: Services, names: ToolNameMap, message: ChatMessage
) -> AgentLoop:
    """A loop for one request: this chat's allow-list and approvals, the configured limits."""
    assert services.llm is not None
    llm, limits = config.orchestrator.llm_settings, config.limits
    policy = config.policy_for(message.chat_key)
    return AgentLoop(
        services.llm,
        services.hub,
        names,
        rules=ApprovalRules.from_config(config),
        user_id=message.user_id,
        limits=LoopLimits(
            llm.max_steps,
            llm.tool_output_tokens,
            llm.request_tokens,
            limits.confirmation_ttl_seconds,
        ),
        allowed=lambda spec: tool_allowed(policy, spec),
        preapproved=message.approved_tools,
    )


async def likely_write_tools(app: PlanHost, message: ChatMessage) -> list[str]:
    """The tools needing approval that this request would use: for `/run server tool` that
    tool, for another command none, for free text those it would be offered (routed now)."""
    rules = ApprovalRules.from_config(app.config)
    if split_command(message.text) is not None:
        named = run_target(message.text)  # any other command calls no tool
        tools = [t for t in app.allowed_tools(message.chat_key) if (t.server, t.name) == named]
        return [t.key for t in tools if rules.needs_approval(t)]
    embedded = await embed(app.services, message.text)
    tools = await app.toolset.select_tools(message, embedded)
    return [t.key for t in tools if rules.needs_approval(t)]


async def likely_servers(app: PlanHost, message: ChatMessage) -> list[str]:
    """The servers this request would call: for `/run server tool` that server (known before
    its tools are, e.g. before anyone signed in to it), for another command none, for free text
    those of the tools it would be offered (routed now, as its confirmation is) and of the
    tools approved for it."""
    if split_command(message.text) is not None:
        named = run_target(message.text)
        return [named[0]] if named is not None else []
    embedded = await embed(app.services, message.text)
    tools = await app.toolset.select_tools(message, embedded)
    approved = [key.partition("/")[0] for key in sorted(message.approved_tools)]
    return list(dict.fromkeys([*(t.server for t in tools), *approved]))


async def resume_plan(
    app: PlanHost, message: ChatMessage, plan: PendingConfirmation, *, approved: bool
) -> list[Reply]:
    """Run all / Cancel pressed: continue the paused loop to its answer and summary."""
    services = app.services
    if services.llm is None:
        return [Reply("No language model is configured.", ReplyKind.ERROR)]
    owner = replace(message, user_id=plan.user_id, approved_tools=frozenset(plan.preapproved))
    loop = agent_loop(app.config, services, app.names, owner)
    offered = set(plan.offered)
    tools = [
        t
        for t in app.allowed_tools(message.chat_key)
        if app.names.safe_name(t.server, t.name) in offered
    ]
    loop.offer(tools, builtin_tools(app, owner, tools))  # a schedule is the asker's
    try:
        result = await loop.resume(plan, approved=approved)
    except LLMError as exc:
        return [Reply(f"{exc} (/run still works without the model.)", ReplyKind.ERROR)]
    sessions = services.sessions
    conversation = message.conversation_key
    async with sessions.lock(conversation):
        session = await sessions.load(conversation)
        record_answer(app.config, session, result)
        await sessions.save(conversation, session)
    if result.is_answer and plan.request:
        request = replace(message, text=plan.request, user_id=plan.user_id)
        await remember(services.memory, request, result, await embed(services, plan.request))
    return result_replies(replace(message, user_id=plan.user_id), result)
