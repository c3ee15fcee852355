"""A stand-in for the real `@xeroapi/xero-mcp-server`, with fixed data, for scenario tests.

It serves exactly the names, descriptions and input schemas recorded from the real server
(tests/fixtures/xero_tools_list.json) for the tools the scenarios use, and answers the way the
real server's source (0.0.17, dist/tools/list/*.tool.js) does:

- list-invoices takes a required `page` and filters only by `contactIds` / `invoiceNumbers`
  (no status filter); it returns 10 invoices a page, newest update first, PAID and DRAFT ones
  included, as one text item "Found N invoices:" and one "Key: value" text item per invoice. Lines
  with an empty value are left out, as in the real server (a PAID invoice has no "Amount Due").
- list-contacts takes optional `page` and `searchTerm`.
- Dates print as JavaScript's Date.toString() does, numbers as JavaScript prints them.
- Bad arguments give the TypeScript SDK's tool error ("MCP error -32602: Input validation
  error: ..."); extra arguments are dropped, as zod does.

Only AUTHORISED invoices with an amount due are unpaid: INV-101 (Globex, 1200) and INV-102
(Initech, 430.5, on page 2). DRAFT invoices show an amount due but are not yet owed.

    python tests/servers/xero_standin.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "xero_tools_list.json"
SERVED = ("list-invoices", "list-contacts")
PAGE_SIZE = 10

CONTACTS = {
    name: f"{i:08d}-4e5f-4a6b-8c7d-{i:012d}"
    for i, name in enumerate(
        ["Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"], 1
    )
}
EMAILS = {"Globex": "ap@globex.example", "Initech": "billing@initech.example"}

# number, contact, status, total, days since issue, days since last update
_ROWS = [
    ("INV-113", "Hooli", "DRAFT", 980.0, 1, 1),
    ("INV-112", "Umbrella", "PAID", 250.0, 3, 2),
    ("INV-101", "Globex", "AUTHORISED", 1200.0, 40, 3),
    ("INV-111", "Stark Industries", "PAID", 3100.0, 20, 4),
    ("INV-110", "Wayne Enterprises", "PAID", 75.25, 22, 5),
    ("INV-109", "Globex", "PAID", 640.0, 25, 6),
    ("INV-108", "Hooli", "DRAFT", 1500.0, 8, 7),
    ("INV-107", "Umbrella", "PAID", 99.99, 30, 8),
    ("INV-106", "Initech", "PAID", 410.0, 33, 9),
    ("INV-105", "Stark Industries", "PAID", 2200.0, 35, 10),
    ("INV-102", "Initech", "AUTHORISED", 430.5, 45, 11),
    ("INV-104", "Wayne Enterprises", "PAID", 560.0, 50, 12),
    ("INV-103", "Umbrella", "PAID", 125.0, 55, 13),
]
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _invoice(
    number: str, contact: str, status: str, total: float, issued: int, updated: int
) -> dict[str, Any]:
    sub_total = round(total / 1.2, 2)
    date = (NOW - timedelta(days=issued)).replace(hour=0, minute=0)
    paid = status == "PAID"
    return {
        "invoiceID": f"{int(number[4:]):08d}-1a2b-4c3d-9e8f-{int(number[4:]):012d}",
        "invoiceNumber": number,
        "reference": f"PO-{number[4:]}" if contact == "Globex" else None,
        "type": "ACCREC",
        "status": status,
        "contact": {"name": contact, "contactID": CONTACTS[contact]},
        "date": date,
        "dueDate": date + timedelta(days=30),
        "lineAmountTypes": "Exclusive",
        "subTotal": sub_total,
        "totalTax": round(total - sub_total, 2),
        "total": total,
        "currencyCode": "GBP",
        "currencyRate": 1,
        "updatedDateUTC": NOW - timedelta(days=updated),
        "fullyPaidOnDate": date + timedelta(days=10) if paid else None,
        "amountDue": 0 if paid else total,
        "amountPaid": total if paid else 0,
        "amountCredited": 0,
        "lineItems": [
            {
                "description": f"Services for {contact}",
                "quantity": 1,
                "unitAmount": sub_total,
                "accountCode": "200",
                "taxType": "OUTPUT2",
                "tracking": [],
                "lineAmount": sub_total,
            }
        ],
    }


INVOICES = [_invoice(*row) for row in _ROWS]


def js(value: Any) -> str:
    """A value as a JavaScript template literal prints it."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(js(v) for v in value)
    return str(value)


def _line_item(item: dict[str, Any]) -> str:
    keys = [
        ("Item ID", "item"),
        ("Item Code", "itemCode"),
        ("Description", "description"),
        ("Quantity", "quantity"),
        ("Unit Amount", "unitAmount"),
        ("Account Code", "accountCode"),
        ("Tax Type", "taxType"),
        ("Tracking", "tracking"),
        ("Line Amount", "lineAmount"),
    ]
    return "\n".join(f"{label}: {js(item.get(key))}" for label, key in keys)


def invoice_text(inv: dict[str, Any], with_lines: bool) -> str:
    """One invoice as the real list-invoices tool writes it (falsy optional fields omitted)."""
    optional = [
        ("Date", "date"),
        ("Due Date", "dueDate"),
        ("Line Amount Types", "lineAmountTypes"),
        ("Sub Total", "subTotal"),
        ("Total Tax", "totalTax"),
    ]
    lines = [f"Invoice ID: {inv['invoiceID']}", f"Invoice: {inv['invoiceNumber']}"]
    lines += [f"Reference: {inv['reference']}"] if inv.get("reference") else []
    lines += [f"Type: {inv['type']}", f"Status: {inv['status']}"]
    lines.append(f"Contact: {inv['contact']['name']} ({inv['contact']['contactID']})")
    lines += [f"{label}: {js(inv[key])}" for label, key in optional if inv.get(key)]
    lines.append(f"Total: {js(inv['total'] or 0)}")
    later = [
        ("Currency", "currencyCode"),
        ("Currency Rate", "currencyRate"),
        ("Last Updated", "updatedDateUTC"),
        ("Fully Paid On", "fullyPaidOnDate"),
        ("Amount Due", "amountDue"),
        ("Amount Paid", "amountPaid"),
        ("Amount Credited", "amountCredited"),
    ]
    lines += [f"{label}: {js(inv[key])}" for label, key in later if inv.get(key)]
    if with_lines:
        lines.append(f"Line Items: {','.join(_line_item(i) for i in inv['lineItems'])}")
    return "\n".join(lines)


def list_invoices(args: dict[str, Any]) -> list[str]:
    page = max(1, int(args["page"]))
    contact_ids = args.get("contactIds")
    numbers = args.get("invoiceNumbers")
    chosen = [
        inv
        for inv in INVOICES
        if (not contact_ids or inv["contact"]["contactID"] in contact_ids)
        and (not numbers or inv["invoiceNumber"] in numbers)
    ]
    chosen.sort(key=lambda inv: inv["updatedDateUTC"], reverse=True)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    with_lines = bool(numbers)
    return [f"Found {len(shown)} invoices:"] + [invoice_text(i, with_lines) for i in shown]


def list_contacts(args: dict[str, Any]) -> list[str]:
    page = args.get("page")
    term = str(args.get("searchTerm") or "").lower()
    chosen = [(name, cid) for name, cid in CONTACTS.items() if term in name.lower()]
    if page and page > 1:
        chosen = []  # 100 a page: everything fits on page 1
    texts = [f"Found {len(chosen)} contacts{f' (page {js(page)})' if page else ''}:"]
    for name, cid in chosen:
        email = EMAILS.get(name)
        texts.append(
            "\n".join(
                [
                    f"Contact: {name}",
                    f"ID: {cid}",
                    f"Email: {email}" if email else "No email",
                    "Type: Customer",
                    f"Last Updated: {js(NOW - timedelta(days=60))}",
                    "Status: ACTIVE",
                ]
            )
        )
    return texts


HANDLERS = {"list-invoices": list_invoices, "list-contacts": list_contacts}


def recorded_tools() -> list[types.Tool]:
    doc = json.loads(RECORDED.read_text())
    return [types.Tool.model_validate(t) for t in doc["tools"] if t["name"] in SERVED]


def create_server() -> Server[Any]:
    tools = {t.name: t for t in recorded_tools()}

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=list(tools.values()))

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        def error(text: str) -> types.CallToolResult:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=text)], is_error=True
            )

        tool = tools.get(params.name)
        if tool is None:
            return error(f"MCP error -32602: Tool {params.name} not found")
        schema = {k: v for k, v in tool.input_schema.items() if k != "additionalProperties"}
        args = dict(params.arguments or {})
        problems = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(args)]
        if problems:
            return error(
                "MCP error -32602: Input validation error: Invalid arguments for tool "
                f"{params.name}: {'; '.join(problems)}"
            )
        known = set(schema.get("properties", {}))
        texts = HANDLERS[params.name]({k: v for k, v in args.items() if k in known})
        return types.CallToolResult(content=[types.TextContent(type="text", text=t) for t in texts])

    return Server(
        "Xero MCP Server", version="1.0.0", on_list_tools=on_list_tools, on_call_tool=on_call_tool
    )


async def _main() -> None:
    server = create_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(_main)
