"""Drives the add-on's MCP endpoint with the official Python SDK (`mcp`, tests/clients/requirements-mcp.txt):
one step a line of JSON on stdin, one answer a line of JSON on stdout, in order.

    .venv/mcp-sdk/bin/python tests/clients/mcp_client.py

Steps (the same as tests/clients/mcp.mjs, the TypeScript SDK's driver, takes):

    {"op": "connect", "url": U, "bearer": K?}   mcp.Client over Streamable HTTP (initialize)
    {"op": "tools"}                             list_tools
    {"op": "call", "name": N, "arguments": A}   call_tool
    {"op": "resources"}                         list_resources
    {"op": "read", "uri": U}                    read_resource
    {"op": "subscribe", "uri": U}               subscribe_resource
    {"op": "notification", "method": M, "uri": U?, "timeout": S}
                                                the first notification received (since the
                                                connect) with that method (and params.uri)
    {"op": "close"}                             leave the client (DELETE of the session)

Answers: {"ok": value} or {"error": {"type": T, "message": S, "code": C?, "statuses": [...]}}
(`statuses`: the HTTP status of every response the client got, for a failed connect). Values are
read from the SDK's pydantic results by their attribute names and written under the protocol's
names (`is_error` as "isError", ...), so the test sees what the SDK parsed. Exits when stdin closes.
tests/test_mcp_clients.py runs it against the packaged add-on in a real Anki.
"""

from __future__ import annotations

import json
import sys
import warnings
from contextlib import AsyncExitStack
from typing import Any, Dict, List, Optional

import anyio
import anyio.to_thread
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

warnings.simplefilter("ignore")  # resources/subscribe is deprecated for 2026-07-28 servers


def leaves(exc: BaseException) -> List[BaseException]:
    """The exceptions inside (nested) exception groups: what went wrong, not the task group."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in leaves(sub)]
    return [exc]


def described(exc: BaseException, statuses: Optional[List[int]] = None) -> Dict[str, Any]:
    first = leaves(exc)[0]
    error: Dict[str, Any] = {"type": type(first).__name__, "message": str(first)}
    code = getattr(getattr(first, "error", None), "code", None)
    if code is not None:
        error["code"] = code
    if statuses is not None:
        error["statuses"] = list(statuses)
    return error


def annotations(tool: Any) -> Optional[Dict[str, Any]]:
    hints = tool.annotations
    if hints is None:
        return None
    return {"readOnlyHint": hints.read_only_hint, "destructiveHint": hints.destructive_hint,
            "idempotentHint": hints.idempotent_hint, "openWorldHint": hints.open_world_hint}


def content(block: Any) -> Dict[str, Any]:
    return {"type": block.type, "text": getattr(block, "text", None)}


class Driver:
    def __init__(self) -> None:
        self.stack: Optional[AsyncExitStack] = None
        self.client: Optional[Client] = None
        self.session_id: Optional[str] = None
        self.statuses: List[int] = []
        self.notifications: List[Dict[str, Any]] = []
        self.arrived = anyio.Event()

    async def on_message(self, message: Any) -> None:
        if isinstance(message, Exception):
            return
        params = getattr(message, "params", None)
        self.notifications.append({
            "method": message.method,
            "params": params.model_dump(mode="json", by_alias=True, exclude_none=True)
            if params is not None else None})
        self.arrived.set()
        self.arrived = anyio.Event()

    async def on_response(self, response: httpx2.Response) -> None:
        self.statuses.append(response.status_code)
        sid = response.headers.get("mcp-session-id")
        if sid:
            self.session_id = sid

    async def connect(self, url: str, bearer: Optional[str] = None) -> Dict[str, Any]:
        await self.close()
        self.statuses, self.session_id, self.notifications = [], None, []
        stack = AsyncExitStack()
        try:
            # as the SDK documents it for headers: an httpx2.AsyncClient of one's own
            http = await stack.enter_async_context(httpx2.AsyncClient(
                headers={"Authorization": "Bearer " + bearer} if bearer is not None else None,
                timeout=httpx2.Timeout(30, read=300),
                event_hooks={"response": [self.on_response]}))
            client = await stack.enter_async_context(Client(
                streamable_http_client(url, http_client=http), message_handler=self.on_message))
        except BaseException as exc:
            await stack.aclose()
            raise Failed(described(exc, self.statuses)) from None
        self.stack, self.client = stack, client
        info = client.server_info
        capabilities = client.server_capabilities
        resources = capabilities.resources
        return {"protocolVersion": client.protocol_version,
                "serverInfo": {"name": info.name, "version": info.version} if info else None,
                "capabilities": {
                    "tools": capabilities.tools is not None,
                    "resources": {"subscribe": resources.subscribe} if resources else None},
                "instructions": client.instructions,
                "sessionId": self.session_id}

    def connected(self) -> Client:
        if self.client is None:
            raise Failed({"type": "NotConnected", "message": "connect first"})
        return self.client

    async def close(self) -> None:
        stack, self.stack, self.client = self.stack, None, None
        if stack is not None:
            await stack.aclose()

    async def run(self, step: Dict[str, Any]) -> Any:
        op = step.get("op")
        if op == "connect":
            return await self.connect(step["url"], step.get("bearer"))
        if op == "close":
            await self.close()
            return None
        if op == "notification":
            return await self.notification(step["method"], step.get("uri"),
                                           float(step.get("timeout", 20)))
        client = self.connected()
        if op == "tools":
            listed = await client.list_tools()
            return [{"name": t.name, "description": t.description,
                     "inputSchema": t.input_schema, "outputSchema": t.output_schema,
                     "annotations": annotations(t)} for t in listed.tools]
        if op == "call":
            result = await client.call_tool(step["name"], step.get("arguments") or {})
            return {"isError": result.is_error, "structuredContent": result.structured_content,
                    "content": [content(block) for block in result.content]}
        if op == "resources":
            listed = await client.list_resources()
            return [{"uri": str(r.uri), "name": r.name, "mimeType": r.mime_type}
                    for r in listed.resources]
        if op == "read":
            read = await client.read_resource(step["uri"])
            return {"contents": [{"uri": str(c.uri), "mimeType": c.mime_type,
                                  "text": getattr(c, "text", None)} for c in read.contents]}
        if op == "subscribe":
            await client.subscribe_resource(step["uri"])
            return {}
        raise Failed({"type": "UnknownStep", "message": "unknown op %r" % op})

    async def notification(self, method: str, uri: Optional[str], timeout: float) -> Any:
        def found() -> Optional[Dict[str, Any]]:
            for note in self.notifications:
                if note["method"] == method and (
                        uri is None or (note["params"] or {}).get("uri") == uri):
                    return note
            return None

        with anyio.move_on_after(timeout):
            while found() is None:
                await self.arrived.wait()
        note = found()
        if note is None:
            raise Failed({"type": "TimeoutError",
                          "message": "no %s within %s s; received: %s"
                          % (method, timeout, json.dumps(self.notifications))})
        return note


class Failed(Exception):
    def __init__(self, error: Dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error


def emit(answer: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


async def main() -> None:
    driver = Driver()
    try:
        while True:
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                return
            if not line.strip():
                continue
            try:
                emit({"ok": await driver.run(json.loads(line))})
            except Failed as failed:
                emit({"error": failed.error})
            except Exception as exc:  # what the SDK raised: the test shows it
                emit({"error": described(exc)})
    finally:
        await driver.close()


if __name__ == "__main__":
    anyio.run(main)
