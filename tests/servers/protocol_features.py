"""A test MCP server that uses the protocol's other features: prompts, resources, elicitation
and sampling. Run as `python protocol_features.py` (stdio).

  prompt  review_code(language, code)       two messages: the ask and the code
  prompt  standup()                         no arguments
  resource notes://team/handbook            the team handbook (text)
  resource notes://team/secret-plans        a second resource (for allow-lists)
  template notes://pages/{name}             a wiki page by name
  tool    book_room(room)                   asks the person: confirm (boolean) and a size (enum)
  tool    rename_project()                  asks the person for a free-text name
  tool    connect_account()                 URL-mode elicitation: a sign-in link
  tool    summarize(text)                   asks the client's LLM (sampling) for a summary
  tool    add_prompt()                      registers a new prompt and says the list changed
  tool    add_resource()                    registers a new resource and says the list changed
"""

from __future__ import annotations

import warnings
from typing import Literal

import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import Prompt
from mcp.server.mcpserver.resources import TextResource
from pydantic import BaseModel, Field

HANDBOOK = "Team handbook: deploys happen on Tuesdays; the on-call phone is in the drawer."


class Booking(BaseModel):
    confirm: bool = Field(description="Book it?")
    size: Literal["small", "large"] = Field(description="Room size")


class ProjectName(BaseModel):
    name: str = Field(description="The project's new name")


def build() -> MCPServer:
    server = MCPServer("features")

    @server.prompt(description="Ask for a code review of a snippet")
    def review_code(language: str, code: str) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": f"Please review this {language} code for bugs."},
            {"role": "user", "content": code},
        ]

    @server.prompt(description="Write today's stand-up summary")
    def standup() -> str:
        return "Summarize what the team did yesterday and what is planned today."

    @server.resource("notes://team/handbook", description="The team handbook")
    def handbook() -> str:
        return HANDBOOK

    @server.resource("notes://team/secret-plans", description="Plans nobody may read")
    def secret_plans() -> str:
        return "the secret plans"

    @server.resource("notes://pages/{name}", description="A wiki page by name")
    def page(name: str) -> str:
        return f"Wiki page {name}: nothing here yet."

    @server.tool(description="Book a meeting room (asks the person to confirm)")
    async def book_room(room: str, ctx: Context) -> str:
        answer = await ctx.elicit(f"Book room {room}?", Booking)
        if answer.action != "accept":
            return f"booking {answer.action}d"
        data = answer.data
        return f"booked {room} ({data.size})" if data.confirm else "not booked"

    @server.tool(description="Rename the project (asks the person for the name)")
    async def rename_project(ctx: Context) -> str:
        answer = await ctx.elicit("What should the project be called?", ProjectName)
        if answer.action != "accept":
            return f"rename {answer.action}d"
        return f"renamed to {answer.data.name}"

    @server.tool(description="Connect an external account (sign-in link)")
    async def connect_account(ctx: Context) -> str:
        answer = await ctx.elicit_url(
            "Sign in to the calendar", "https://calendar.example.com/connect?x=1", "el-1"
        )
        return f"connect {answer.action}"

    @server.tool(description="Summarize a text with the client's model")
    async def summarize(text: str, ctx: Context) -> str:
        result = await ctx.session.create_message(
            [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=text))],
            max_tokens=100,
            system_prompt="Summarize in one line.",
        )
        content = result.content
        return "summary: " + (content.text if isinstance(content, types.TextContent) else "?")

    @server.tool(description="Add a prompt")
    async def add_prompt(ctx: Context) -> str:
        def retro() -> str:
            return "Run a retrospective."

        server.add_prompt(Prompt.from_function(retro, name="retro", description="A retro"))
        await ctx.session.send_prompt_list_changed()
        return "added"

    @server.tool(description="Add a resource")
    async def add_resource(ctx: Context) -> str:
        server.add_resource(
            TextResource(uri="notes://team/faq", name="faq", text="FAQ: ask in the channel.")
        )
        await ctx.session.send_resource_list_changed()
        return "added"

    return server


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # sampling is deprecated in the newest protocol revision
    build().run("stdio")
