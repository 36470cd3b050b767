"""An MCP host, with the official MCP Python SDK, driving `assent mcp` over stdio.

Usage: mcp_client.py OWNER DETAILS_JSON -- COMMAND [ARGS...]

Starts COMMAND (`assent mcp --server ... --client-id ...`, with ASSENT_MCP_* passed on from the
environment) as a stdio MCP server and
prints one JSON object per line on stdout, for the Rust test that drives the owner's device:

  {"event": "tools", ...}        the tools it lists, with their input schemas
  {"event": "progress", ...}     a progress notification of the first call (with the code)
  {"event": "result", "step": STEP, "is_error": ..., "content": ...} each tool result
  {"event": "done"}

The steps: "approved" (request_approval waiting, with a progress callback: the test approves
with the code the notification carries); "pending" (wait_seconds 0: the code and a request_id
are in the result, the test denies) then "denied" (approval_status waits and gets the denial);
"unknown" (approval_status on the same id again); "expiring" (wait_seconds 0: the test moves
the server's clock past the expiry) then "expired" (approval_status gets the expiry); "invalid" (wait_seconds over 600);
"stranger" (a request for a user who is not the agent's owner).
"""

import asyncio
import json
import os
import re
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import get_default_environment, stdio_client


def emit(**event):
    print(json.dumps(event), flush=True)


def result_event(step, result):
    structured = result.structured_content
    if structured is None:
        raise SystemExit(f"{step}: the tool result has no structured content: {result}")
    emit(event="result", step=step, is_error=bool(result.is_error), content=structured)
    return structured


async def run(owner, details, command):
    # A host passes a server only the environment it is configured with: here the agent's
    # ASSENT_MCP_* settings on top of the SDK's safe defaults.
    env = get_default_environment()
    env.update({k: v for k, v in os.environ.items() if k.startswith("ASSENT_MCP_")})
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            emit(
                event="tools",
                names=sorted(t.name for t in tools.tools),
                schemas={t.name: t.input_schema for t in tools.tools},
            )

            async def progress(progress, total, message):
                code = re.search(r"the code (\S+)\.", message or "")
                emit(
                    event="progress",
                    progress=progress,
                    total=total,
                    message=message,
                    code=code.group(1) if code else None,
                )

            ask = {
                "user": owner,
                "action": "Pay invoice 2026-114 from ACME GmbH",
                "authorization_details": details,
                "token_lifetime_seconds": 120,
            }
            approved = await session.call_tool(
                "request_approval",
                {**ask, "wait_seconds": 60},
                progress_callback=progress,
            )
            result_event("approved", approved)

            pending = await session.call_tool("request_approval", {**ask, "wait_seconds": 0})
            pending = result_event("pending", pending)
            request_id = pending["request_id"]
            denied = await session.call_tool(
                "approval_status", {"request_id": request_id, "wait_seconds": 60}
            )
            result_event("denied", denied)
            unknown = await session.call_tool("approval_status", {"request_id": request_id})
            result_event("unknown", unknown)

            expiring = await session.call_tool("request_approval", {**ask, "wait_seconds": 0})
            expiring = result_event("expiring", expiring)
            expired = await session.call_tool(
                "approval_status", {"request_id": expiring["request_id"], "wait_seconds": 30}
            )
            result_event("expired", expired)

            invalid = await session.call_tool("request_approval", {**ask, "wait_seconds": 601})
            result_event("invalid", invalid)
            stranger = await session.call_tool(
                "request_approval", {**ask, "user": "bob", "wait_seconds": 0}
            )
            result_event("stranger", stranger)
    emit(event="done")


def main():
    separator = sys.argv.index("--")
    owner, details = sys.argv[1], json.loads(sys.argv[2])
    asyncio.run(run(owner, details, sys.argv[separator + 1 :]))


if __name__ == "__main__":
    main()
