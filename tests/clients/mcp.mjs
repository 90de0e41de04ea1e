// Drives the add-on's MCP endpoint with the official TypeScript SDK (@modelcontextprotocol/sdk:
// its Client over StreamableHTTPClientTransport): one step a line of JSON on stdin, one answer a
// line of JSON on stdout, in order.
//
//   node mcp.mjs
//
// Steps (the same as tests/clients/mcp_client.py, the Python SDK's driver, takes):
//
//   {"op": "connect", "url": U, "bearer": K?}   Client.connect (initialize); K is sent as
//                                               `Authorization: Bearer K` through the transport's
//                                               `requestInit.headers`
//   {"op": "tools"}                             listTools
//   {"op": "call", "name": N, "arguments": A}   callTool
//   {"op": "resources"}                         listResources
//   {"op": "read", "uri": U}                    readResource
//   {"op": "subscribe", "uri": U}               subscribeResource
//   {"op": "notification", "method": M, "uri": U?, "timeout": S}
//                                               the first notification received (since the
//                                               connect) with that method (and params.uri);
//                                               resources/updated arrive through
//                                               setNotificationHandler(ResourceUpdatedNotificationSchema)
//   {"op": "close"}                             terminateSession (DELETE) and close
//
// Answers: {"ok": value} or {"error": {"type": T, "message": S, "code": C?}} (for an HTTP
// failure the SDK's StreamableHTTPError carries the status as its code). Exits when stdin closes.
// tests/test_mcp_clients.py runs it against the packaged add-on in a real Anki.

import { createInterface } from 'node:readline'

import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'

class Failed extends Error {
  constructor(error) {
    super(error.message)
    this.error = error
  }
}

function described(error) {
  const out = { type: error?.constructor?.name ?? typeof error, message: String(error?.message ?? error) }
  if (error && error.code !== undefined) out.code = error.code
  return out
}

let client
let transport
let notifications = []
let arrived = () => {}

function received(method, params) {
  notifications.push({ method, params: params ?? null })
  arrived()
}

async function close() {
  const [c, t] = [client, transport]
  client = transport = undefined
  if (t) {
    try {
      await t.terminateSession()
    } catch {
      // the session may be gone already: closing is all that is left
    }
  }
  if (c) await c.close()
}

async function connect(url, bearer) {
  await close()
  notifications = []
  const requestInit = bearer === undefined ? undefined
    : { headers: { Authorization: `Bearer ${bearer}` } }
  const t = new StreamableHTTPClientTransport(new URL(url), requestInit ? { requestInit } : {})
  const c = new Client({ name: 'ankiconnect-tests', version: '1.0.0' })
  c.setNotificationHandler(ResourceUpdatedNotificationSchema, note =>
    received(note.method, note.params))
  try {
    await c.connect(t)
  } catch (error) {
    throw new Failed(described(error))
  }
  client = c
  transport = t
  const info = c.getServerVersion()
  const capabilities = c.getServerCapabilities() ?? {}
  return {
    protocolVersion: t.protocolVersion,
    serverInfo: info ? { name: info.name, version: info.version } : null,
    capabilities: {
      tools: capabilities.tools !== undefined,
      resources: capabilities.resources ? { subscribe: capabilities.resources.subscribe } : null,
    },
    instructions: c.getInstructions() ?? null,
    sessionId: t.sessionId ?? null,
  }
}

function connected() {
  if (!client) throw new Failed({ type: 'NotConnected', message: 'connect first' })
  return client
}

async function notification(method, uri, timeout) {
  const found = () => notifications.find(n =>
    n.method === method && (uri === undefined || (n.params ?? {}).uri === uri))
  const deadline = Date.now() + timeout * 1000
  while (!found() && Date.now() < deadline) {
    await new Promise(resolve => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
      arrived = () => { clearTimeout(timer); resolve() }
    })
  }
  const note = found()
  if (!note) {
    throw new Failed({
      type: 'TimeoutError',
      message: `no ${method} within ${timeout} s; received: ${JSON.stringify(notifications)}`,
    })
  }
  return note
}

async function run(step) {
  switch (step.op) {
    case 'connect':
      return connect(step.url, step.bearer ?? undefined)
    case 'close':
      await close()
      return null
    case 'notification':
      return notification(step.method, step.uri ?? undefined, Number(step.timeout ?? 20))
    case 'tools': {
      const { tools } = await connected().listTools()
      return tools.map(t => ({
        name: t.name,
        description: t.description ?? null,
        inputSchema: t.inputSchema,
        outputSchema: t.outputSchema ?? null,
        annotations: t.annotations ?? null,
      }))
    }
    case 'call': {
      const result = await connected().callTool({ name: step.name, arguments: step.arguments ?? {} })
      return {
        isError: result.isError ?? false,
        structuredContent: result.structuredContent ?? null,
        content: result.content.map(block => ({ type: block.type, text: block.text ?? null })),
      }
    }
    case 'resources': {
      const { resources } = await connected().listResources()
      return resources.map(r => ({ uri: r.uri, name: r.name, mimeType: r.mimeType ?? null }))
    }
    case 'read': {
      const { contents } = await connected().readResource({ uri: step.uri })
      return {
        contents: contents.map(c => ({ uri: c.uri, mimeType: c.mimeType ?? null, text: c.text ?? null })),
      }
    }
    case 'subscribe':
      await connected().subscribeResource({ uri: step.uri })
      return {}
    default:
      throw new Failed({ type: 'UnknownStep', message: `unknown op ${JSON.stringify(step.op)}` })
  }
}

function emit(answer) {
  process.stdout.write(JSON.stringify(answer) + '\n')
}

// one step at a time, in order: the next line waits for the answer to this one
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  try {
    emit({ ok: (await run(JSON.parse(line))) ?? null })
  } catch (error) {
    emit({ error: error instanceof Failed ? error.error : described(error) })
  }
}
await close()
process.exit(0)
