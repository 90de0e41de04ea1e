// Subscribes to AnkiConnect's push events (GET /events, Server-Sent Events) with the npm client
// `eventsource` and prints what it sees, one JSON object a line, on stdout:
//
//   node events.mjs URL [--bearer KEY] [--last-event-id ID] [--deadline SECONDS]
//
//   URL                  e.g. http://127.0.0.1:8765/events?types=note.added&key=K
//   --bearer KEY         send `Authorization: Bearer KEY`, through the package's documented
//                        `fetch` option (the EventSource API itself has no way to set headers)
//   --last-event-id ID   send the standard `Last-Event-ID: ID` header on the first request too
//                        (EventSource sends it by itself only when it reconnects)
//   --deadline SECONDS   exit after this long whatever happens (default 300)
//
// Lines:
//   {"open": true}                                   the response head arrived (EventSource open)
//   {"type": T, "id": ID, "data": {...}}             an event of a type below (data: parsed JSON)
//   {"type": T, "id": ID, "data": "...", "raw": true}  an event whose data is not JSON
//   {"error": {"code": N|null, "message": S|null, "readyState": 0|1|2}}
//                                                    an EventSource error; readyState 2 (CLOSED)
//                                                    means the client gave up (e.g. a 401), 0 that
//                                                    it is reconnecting
// It exits (closing the EventSource) when stdin closes or at the deadline.
// tests/test_events_clients.py drives it against the packaged add-on in a real Anki.

import { EventSource } from 'eventsource'

// EventSource dispatches each `event: T` to listeners of T only; listen to every documented type
// (and "message", for events without an `event:` field).
const TYPES = [
  'note.added', 'note.updated', 'note.deleted', 'card.answered', 'deck.changed', 'model.changed',
  'sync.started', 'sync.finished', 'profile.opened', 'profile.closed', 'reset', 'message',
]

function usage(text) {
  console.error(text)
  console.error('usage: node events.mjs URL [--bearer KEY] [--last-event-id ID] ' +
    '[--deadline SECONDS]')
  process.exit(2)
}

const args = process.argv.slice(2)
let url
let bearer
let lastEventId
let deadline = 300
while (args.length) {
  const arg = args.shift()
  if (arg === '--bearer' || arg === '--last-event-id' || arg === '--deadline') {
    if (!args.length) usage(`${arg} needs a value`)
    const value = args.shift()
    if (arg === '--bearer') bearer = value
    else if (arg === '--last-event-id') lastEventId = value
    else deadline = Number(value)
  } else if (arg.startsWith('--')) {
    usage(`unknown option ${arg}`)
  } else if (url === undefined) {
    url = arg
  } else {
    usage(`unexpected argument ${arg}`)
  }
}
if (!url) usage('no URL')
if (!(deadline > 0)) usage('--deadline must be a positive number of seconds')

function emit(object) {
  process.stdout.write(JSON.stringify(object) + '\n')
}

const extraHeaders = {}
if (bearer !== undefined) extraHeaders.Authorization = `Bearer ${bearer}`
if (lastEventId !== undefined) extraHeaders['Last-Event-ID'] = lastEventId
let firstRequest = true

const options = {}
if (Object.keys(extraHeaders).length) {
  // as the package's README shows for request headers
  options.fetch = (input, init) => {
    const headers = { ...init.headers }
    if (bearer !== undefined) headers.Authorization = extraHeaders.Authorization
    // the client's own Last-Event-ID (on a reconnect) wins over the one given on the command line
    if (lastEventId !== undefined && firstRequest && !headers['Last-Event-ID']) {
      headers['Last-Event-ID'] = lastEventId
    }
    firstRequest = false
    return fetch(input, { ...init, headers })
  }
}

const es = new EventSource(url, options)

es.addEventListener('open', () => emit({ open: true }))
es.addEventListener('error', (event) => {
  emit({
    error: {
      code: event.code ?? null,
      message: event.message ?? null,
      readyState: es.readyState,
    },
  })
})
for (const type of TYPES) {
  es.addEventListener(type, (event) => {
    let data
    try {
      data = JSON.parse(event.data)
    } catch {
      emit({ type: event.type, id: event.lastEventId, data: event.data, raw: true })
      return
    }
    emit({ type: event.type, id: event.lastEventId, data })
  })
}

function finish() {
  es.close()
  process.exit(0)
}

process.stdin.on('end', finish)
process.stdin.on('close', finish)
process.stdin.resume()
setTimeout(finish, deadline * 1000).unref()
