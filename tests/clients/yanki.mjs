// Drives the npm client yanki-connect against a running AnkiConnect and prints one JSON object.
//
//   node yanki.mjs PORT add DECK        version, deckNames, createDeck, addNote, findNotes,
//                                       notesInfo, canAddNotes, multi and the errors the client
//                                       throws for a duplicate, an unknown model and a bad call
//   node yanki.mjs PORT remove DECK NOTE_ID
//                                       deleteNotes and deleteDecks through the client
//   node yanki.mjs PORT key             env ANKICONNECT_KEY: deckNames with that key, then a
//                                       client without a key and one with a wrong key
//
// PORT may also come from the environment variable ANKICONNECT_PORT (argv wins).
// Every step records either {"result": ...} or {"thrown": "<Error message>"}; tests/test_clients.py
// asserts on the output and on the collection.

import { YankiConnect } from 'yanki-connect'

const [portArg, scenario = 'add', ...rest] = process.argv.slice(2)
const port = Number(portArg ?? process.env.ANKICONNECT_PORT)
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node yanki.mjs PORT add|remove|key [DECK [NOTE_ID]]')
  process.exit(2)
}

async function step(fn) {
  try {
    return { result: await fn() }
  } catch (error) {
    return { thrown: error instanceof Error ? error.message : String(error) }
  }
}

async function addScenario(deck) {
  const client = new YankiConnect({ port })
  const note = {
    deckName: deck,
    modelName: 'Basic',
    fields: { Front: 'yanki front <b>bold</b>', Back: 'yanki back' },
    tags: ['yanki', 'client-test'],
  }
  const out = {}
  out.version = await step(() => client.miscellaneous.version())
  out.deckNamesBefore = await step(() => client.deck.deckNames())
  out.createDeck = await step(() => client.deck.createDeck({ deck }))
  out.deckNamesAfter = await step(() => client.deck.deckNames())
  out.canAddBefore = await step(() => client.note.canAddNotes({ notes: [note] }))
  out.addNote = await step(() => client.note.addNote({ note }))
  const noteId = out.addNote.result
  out.findNotes = await step(() => client.note.findNotes({ query: `"deck:${deck}"` }))
  out.notesInfo = await step(() => client.note.notesInfo({ notes: [noteId] }))
  out.canAddAfter = await step(() => client.note.canAddNotes({ notes: [note] }))
  out.multi = await step(() =>
    client.miscellaneous.multi({
      actions: [
        { action: 'deckNames' },
        { action: 'findNotes', params: { query: `nid:${noteId}` }, version: 6 },
        { action: 'noSuchAction', version: 6 },
      ],
    }),
  )
  out.duplicate = await step(() => client.note.addNote({ note }))
  out.unknownModel = await step(() =>
    client.note.addNote({ note: { ...note, modelName: 'No Such Model yanki' } }),
  )
  // a call without its required parameter
  out.missingParam = await step(() => client.deck.createDeck({}))
  out.unknownAction = await step(() => client.invoke('noSuchAction', {}))
  return out
}

async function removeScenario(deck, noteId) {
  const client = new YankiConnect({ port })
  const out = {}
  out.deleteNotes = await step(() => client.note.deleteNotes({ notes: [Number(noteId)] }))
  out.deleteDecks = await step(() => client.deck.deleteDecks({ decks: [deck], cardsToo: true }))
  out.deckNames = await step(() => client.deck.deckNames())
  out.notesInfo = await step(() => client.note.notesInfo({ notes: [Number(noteId)] }))
  return out
}

async function keyScenario() {
  const key = process.env.ANKICONNECT_KEY
  const out = {}
  out.withKey = await step(() => new YankiConnect({ port, key }).deck.deckNames())
  out.withoutKey = await step(() => new YankiConnect({ port }).deck.deckNames())
  out.wrongKey = await step(() => new YankiConnect({ port, key: `${key}-wrong` }).deck.deckNames())
  return out
}

const scenarios = { add: addScenario, remove: removeScenario, key: keyScenario }
if (!(scenario in scenarios)) {
  console.error(`unknown scenario: ${scenario}`)
  process.exit(2)
}
const output = await scenarios[scenario](...rest)
console.log(JSON.stringify(output))
