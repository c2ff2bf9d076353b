import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { asDraftId, type DraftId } from "../sync/ids";
import type { Evidence } from "../sync/schema";
import { PIECE_BYTES, sha256Hex } from "../uploads/pieces";
import { EvidenceApi, type EvidenceDeclaration } from "./api";
import { EvidenceService, type EvidenceDrafts, type EvidenceEnvironment } from "./service";
import { EvidenceStore } from "./store";
import { EVIDENCE_TYPES, evidenceType, MAX_EVIDENCE_BYTES, refusal } from "./types";

const ENTRY = asDraftId("entry-1");
let run = 0;

/** The evidence contract's server side in memory, behind a `fetch`. The
 * real server is exercised by server/tests/evidence and e2e/evidence.test.mjs. */
class FakeEvidenceServer {
  readonly files = new Map<string, { declaration: EvidenceDeclaration; bytes: Uint8Array }>();
  readonly requests: string[] = [];
  /** Requests to fail as if there were no signal. */
  dropAfter = Infinity;
  refuseNext: { status: number; code: string; message: string } | null = null;

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), "http://fieldbook.test");
    const method = init?.method ?? "GET";
    if (this.requests.length >= this.dropAfter) throw new TypeError("Failed to fetch");
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    if (this.refuseNext) {
      const { status, code, message } = this.refuseNext;
      this.refuseNext = null;
      return json(status, { error: { code, message } });
    }
    if (method === "POST") {
      const declaration = JSON.parse(String(init?.body)) as EvidenceDeclaration;
      const known = this.files.get(declaration.evidenceId);
      if (!known) this.files.set(declaration.evidenceId, { declaration, bytes: new Uint8Array(0) });
      return json(known ? 200 : 201, this.#status(declaration.evidenceId));
    }
    const id = decodeURIComponent(url.pathname.split("/")[3] ?? "");
    const file = this.files.get(id);
    if (!file) return json(404, { error: { code: "not_found", message: "Not found." } });
    if (method === "DELETE") {
      this.files.delete(id);
      return new Response(null, { status: 204 });
    }
    if (method === "PUT") {
      const offset = Number(url.searchParams.get("offset"));
      if (offset !== file.bytes.byteLength) return json(409, { error: { code: "wrong_offset", message: "", received: file.bytes.byteLength }, received: file.bytes.byteLength });
      const piece = init?.body as Uint8Array;
      const joined = new Uint8Array(offset + piece.byteLength);
      joined.set(file.bytes);
      joined.set(piece, offset);
      file.bytes = joined;
    }
    return json(200, this.#status(id));
  };

  #status(id: string) {
    const { declaration, bytes } = this.files.get(id)!;
    return { ...declaration, received: bytes.byteLength, state: bytes.byteLength === declaration.size ? "stored" : "uploading" };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

class FakeDrafts implements EvidenceDrafts {
  readonly listed: Evidence[] = [];
  addEvidence(_id: DraftId, item: Evidence): void {
    this.listed.push(item);
  }
  removeEvidence(_id: DraftId, evidenceId: string): void {
    this.listed.splice(this.listed.findIndex((item) => item.id === evidenceId), 1);
  }
  async flush(): Promise<void> {}
}

class Env implements EvidenceEnvironment {
  isOnline = false;
  clock = 10_000;
  online = () => this.isOnline;
  random = () => 0.5;
  now = () => this.clock;
}

async function setup() {
  const store = await EvidenceStore.open(`evidence-service-${++run}`);
  const server = new FakeEvidenceServer();
  const env = new Env();
  const drafts = new FakeDrafts();
  const service = new EvidenceService(store, new EvidenceApi(server.fetch), env);
  await service.start();
  return { store, server, env, drafts, service };
}

function pdf(size: number, name = "Certificate.pdf"): File {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return new File([bytes], name, { type: "application/pdf" });
}

describe("which files are evidence", () => {
  test("the same types as the server's list (server/src/uploads/evidence.rs)", () => {
    const source = readFileSync(new URL("../../../server/src/uploads/evidence.rs", import.meta.url), "utf8");
    const list = /pub const ACCEPTED_TYPES: &\[&str\] = &\[([^\]]*)\]/.exec(source)?.[1] ?? "";
    const server = [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
    expect(server.length).toBeGreaterThan(5);
    expect(EVIDENCE_TYPES.map((type) => type.mimeType)).toEqual(server);
  });

  test("by type, or by name when the browser gives no type", () => {
    expect(evidenceType({ name: "a.pdf", type: "application/pdf" })?.mimeType).toBe("application/pdf");
    expect(evidenceType({ name: "IMG_0001.HEIC", type: "" })?.mimeType).toBe("image/heic");
    expect(evidenceType({ name: "slides.pptx", type: "application/octet-stream" })?.label).toBe("PowerPoint slides");
    expect(evidenceType({ name: "notes.odt", type: "" })?.label).toBe("OpenDocument text");
    expect(evidenceType({ name: "page.html", type: "text/html" })).toBeNull();
    // A name cannot smuggle in a type the browser says is something else.
    expect(evidenceType({ name: "drawing.pdf", type: "image/svg+xml" })).toBeNull();
    expect(evidenceType({ name: "setup.exe", type: "" })).toBeNull();
  });

  test("refusals say plainly what is wrong", () => {
    expect(refusal({ name: "page.html", type: "text/html", size: 10 })).toMatch(/^“page.html” cannot be attached\. Fieldbook takes PDFs, photos/);
    expect(refusal({ name: "big.pdf", type: "application/pdf", size: MAX_EVIDENCE_BYTES + 1 })).toBe(
      "“big.pdf” is 50 MB; evidence files can be up to 50 MB. Make it smaller (for example, save slides as a PDF) and attach it again.",
    );
    expect(refusal({ name: "empty.pdf", type: "application/pdf", size: 0 })).toBe("“empty.pdf” is empty.");
    expect(refusal({ name: "ok.jpg", type: "image/jpeg", size: 10 })).toBeNull();
    expect(refusal({ name: "big.pptx", type: "", size: 73_400_000 })).toMatch(/^“big.pptx” is 73.4 MB; /);
  });
});

describe("EvidenceService", () => {
  test("a file attached offline is kept on the device and listed in the entry, then uploads whole when there is signal", async () => {
    const { store, server, env, drafts, service } = await setup();
    const file = pdf(2.5 * PIECE_BYTES);
    expect(await service.attach(drafts, ENTRY, file)).toBeNull();
    expect(drafts.listed).toEqual([{ id: expect.any(String), name: "Certificate.pdf", mimeType: "application/pdf", size: file.size, addedAt: 10_000 }]);
    const id = drafts.listed[0]!.id;
    expect(service.view(id)).toEqual({ kind: "waiting", offline: true });
    expect((await store.bytes(id))?.byteLength).toBe(file.size);
    expect(server.requests).toEqual([]);

    env.isOnline = true;
    service.onOnline();
    await service.pump();
    const bytes = new Uint8Array(await file.arrayBuffer());
    expect(server.files.get(id)?.declaration).toMatchObject({ documentId: ENTRY, name: "Certificate.pdf", size: file.size, sha256: await sha256Hex(bytes) });
    expect(Buffer.from(server.files.get(id)!.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(service.view(id)).toEqual({ kind: "uploaded" });
    // The server has it: this device's copy of the bytes is gone, its record stays.
    expect(await store.bytes(id)).toBeNull();
    expect((await store.list()).map((r) => r.upload.state)).toEqual(["uploaded"]);
  });

  test("signal lost mid-upload: waits, then resumes from what the server has", async () => {
    const { server, env, drafts, service } = await setup();
    env.isOnline = true;
    server.dropAfter = 2; // the declaration and one piece get through
    await service.attach(drafts, ENTRY, pdf(3 * PIECE_BYTES));
    await service.pump();
    const id = drafts.listed[0]!.id;
    expect(server.files.get(id)?.bytes.byteLength).toBe(PIECE_BYTES);
    expect(service.view(id)).toEqual({ kind: "waiting", offline: false });
    server.dropAfter = Infinity;
    server.requests.length = 0;
    env.clock += 10 * 60_000; // past any backoff
    await service.tick();
    expect(server.requests.filter((r) => r.startsWith("PUT"))).toEqual([`PUT /api/evidence/${id}?offset=${PIECE_BYTES}`, `PUT /api/evidence/${id}?offset=${2 * PIECE_BYTES}`]);
    expect(service.view(id)).toEqual({ kind: "uploaded" });
  });

  test("a refusal from the server is shown with its reason, and Retry tries again", async () => {
    const { server, env, drafts, service } = await setup();
    env.isOnline = true;
    server.refuseNext = { status: 413, code: "evidence_quota", message: "Your evidence files already use 1.1 GB of the 1.1 GB you may keep on the server." };
    await service.attach(drafts, ENTRY, pdf(100));
    await service.pump();
    const id = drafts.listed[0]!.id;
    expect(service.view(id)).toEqual({ kind: "failed", reason: "Your evidence files already use 1.1 GB of the 1.1 GB you may keep on the server." });
    await service.retry(id);
    await service.pump();
    expect(service.view(id)).toEqual({ kind: "uploaded" });
  });

  test("a file of a type we do not take is refused at once and nothing is kept", async () => {
    const { store, drafts, service } = await setup();
    const refused = await service.attach(drafts, ENTRY, new File(["<script>"], "page.html", { type: "text/html" }));
    expect(refused).toMatch(/cannot be attached/);
    expect(drafts.listed).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  test("removing takes the file off the entry at once and off the server when there is signal", async () => {
    const { store, server, env, drafts, service } = await setup();
    env.isOnline = true;
    await service.attach(drafts, ENTRY, pdf(100));
    await service.pump();
    const id = drafts.listed[0]!.id;
    env.isOnline = false;
    await service.remove(drafts, ENTRY, id);
    expect(drafts.listed).toEqual([]);
    expect(server.files.has(id)).toBe(true);
    env.isOnline = true;
    await service.pump();
    expect(server.files.has(id)).toBe(false);
    expect(await store.list()).toEqual([]);
    expect(service.view(id)).toBeNull();
  });

  test("when the entry is deleted, its files still waiting here are dropped and never sent", async () => {
    const { store, server, env, drafts, service } = await setup();
    await service.attach(drafts, ENTRY, pdf(100));
    await service.attach(drafts, asDraftId("entry-2"), pdf(100, "Other.pdf"));
    const [deleted, kept] = drafts.listed.map((file) => file.id);
    await service.forgetEntry(ENTRY);
    expect(service.view(deleted!)).toBeNull();
    expect(await store.bytes(deleted!)).toBeNull();
    env.isOnline = true;
    await service.pump();
    expect([...server.files.keys()]).toEqual([kept]);
  });

  test("a restart finds waiting files and uploads them", async () => {
    const { store, server, env, drafts, service } = await setup();
    await service.attach(drafts, ENTRY, pdf(500));
    const id = drafts.listed[0]!.id;
    const again = new EvidenceService(store, new EvidenceApi(server.fetch), env);
    await again.start();
    expect(again.view(id)).toEqual({ kind: "waiting", offline: true });
    env.isOnline = true;
    await again.pump();
    expect(server.files.get(id)?.bytes.byteLength).toBe(500);
    expect(again.view(id)).toEqual({ kind: "uploaded" });
  });
});
