// The reference automerge-repo sync server, as automerge-repo-sync-server
// builds it: a Repo with the WebSocket server adapter and file-system
// storage that never announces documents (sharePolicy false), behind an
// HTTP server that upgrades every request. No authentication.
//   node server.mjs --port 0 --data-dir DIR
// prints "listening on http://127.0.0.1:PORT" once ready.
import http from "node:http";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, "data-dir": { type: "string" } } });
if (!values["data-dir"]) throw new Error("--data-dir is required");

const socket = new WebSocketServer({ noServer: true });
const adapter = new NodeWSServerAdapter(socket);
new Repo({
  network: [adapter],
  storage: new NodeFSStorageAdapter(values["data-dir"]),
  peerId: `storage-server-${process.pid}`,
  sharePolicy: async () => false,
});
const server = http.createServer((_request, response) => {
  response.end("automerge-repo reference sync server");
});
server.on("upgrade", (request, stream, head) => {
  socket.handleUpgrade(request, stream, head, ws => socket.emit("connection", ws, request));
});
// The Repo attaches the adapter's connection handler only once its storage
// is ready; listen after that, or early connections go unanswered.
while (!adapter.peerId) await new Promise(resolve => setTimeout(resolve, 10));
server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
