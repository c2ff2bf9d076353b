// Unit tests run in Node: IndexedDB comes from fake-indexeddb, and the
// full Automerge entry point loads its WebAssembly from disk (the app itself
// fetches it, see sync/client.ts).
import "fake-indexeddb/auto";
import "@automerge/automerge";
