// Starts and stops the real `fieldbook` binary for the tests that drive it
// from outside (tests/interop and the browser tests in pwa/e2e), and signs
// users up and in through its HTTP API. Plain Node with no packages, so each
// suite imports it by relative path after its own `npm ci`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const repoRoot = resolve(import.meta.dirname, "../..");
export const BINARY = process.env.FIELDBOOK_BIN ?? join(repoRoot, "target/debug/fieldbook");
export const PASSWORD = "correct horse battery staple";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const STDERR_TAIL_BYTES = 16_384;

// Servers still running when this process exits (a crashed test, a missed
// `after` hook) are killed so no `fieldbook` process is left behind.
const running = new Set();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

let emails = 0;
/** An email address no other test (or earlier run on the same data) uses. */
export function uniqueEmail(label) {
  return `${label}-${process.pid}-${Date.now()}-${++emails}@example.org`;
}

export class FieldbookServer {
  /**
   * Spawns `fieldbook serve --listen 127.0.0.1:0 --data-dir <dir>` and waits
   * for its one stdout line `listening on http://127.0.0.1:PORT`.
   * `dataDir`: an existing data directory (a restart) instead of a new one;
   * `pwaDir`: the built app to serve; `logVariable`: the environment
   * variable that, set to 1, shows the server's stderr live (with RUST_LOG).
   */
  static async start({ dataDir: existingDataDir = undefined, pwaDir = undefined, logVariable = "INTEROP_SERVER_LOG" } = {}) {
    const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), "fieldbook-test-"));
    const live = process.env[logVariable] === "1";
    const args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...(pwaDir === undefined ? [] : ["--pwa-dir", pwaDir])];
    const child = spawn(BINARY, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" },
    });
    running.add(child);
    const server = new FieldbookServer(child, dataDir);
    child.stderr.on("data", chunk => {
      if (live) process.stderr.write(chunk);
      server.stderrTail = (server.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });

    const lines = createInterface({ input: child.stdout });
    let timer;
    try {
      server.origin = await new Promise((resolveOrigin, reject) => {
        lines.once("line", line => {
          const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
          if (match) resolveOrigin(match[1]);
          else reject(new Error(`unexpected first stdout line from fieldbook: ${JSON.stringify(line)}`));
        });
        child.once("error", reject); // e.g. the binary does not exist
        server.exited.then(({ code, signal }) =>
          reject(new Error(`fieldbook exited (code ${code}, signal ${signal}) before listening\n${server.stderrTail}`)),
        );
        timer = setTimeout(() => reject(new Error(`fieldbook did not print its listening line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      });
    } catch (error) {
      child.kill("SIGKILL");
      if (existingDataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
      throw error;
    } finally {
      clearTimeout(timer);
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    lines.on("line", line => {
      if (live) process.stderr.write(`[fieldbook stdout] ${line}\n`);
    });
    return server;
  }

  constructor(child, dataDir) {
    this.child = child;
    this.dataDir = dataDir;
    this.origin = undefined;
    this.stderrTail = "";
    this.exited = new Promise(resolveExit =>
      child.once("exit", (code, signal) => {
        running.delete(child);
        resolveExit({ code, signal });
      }),
    );
  }

  get host() {
    return new URL(this.origin).host;
  }

  /** The sync URL with a device token as userinfo; Node's `ws` sends it as `Authorization: Basic`. */
  syncUrl(token) {
    return `ws://token:${encodeURIComponent(token)}@${this.host}/sync`;
  }

  async request(method, path, { body, token } = {}) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const response = await fetch(this.origin + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, body: json, text };
  }

  /** POST /api/auth/register → `{ userId, rootDocUrl }`; fails unless 201. */
  async register(email, password = PASSWORD) {
    const { status, text, body } = await this.request("POST", "/api/auth/register", { body: { email, password } });
    if (status !== 201) throw new Error(`register ${email}: HTTP ${status} ${text}`);
    return body;
  }

  /** POST /api/auth/login → `{ token, userId, deviceId, rootDocUrl }` (a new device); fails unless 200. */
  async login(email, deviceName = "interop device", password = PASSWORD) {
    const { status, text, body } = await this.request("POST", "/api/auth/login", {
      body: { email, password, deviceName },
    });
    if (status !== 200) throw new Error(`login ${email}: HTTP ${status} ${text}`);
    return body;
  }

  /** SIGTERM, then wait for the graceful exit (which must be status 0). */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    let timer;
    const timedOut = new Promise(resolveTimeout => {
      timer = setTimeout(() => resolveTimeout("timeout"), STOP_TIMEOUT_MS);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.child.kill("SIGKILL");
      await this.exited;
      throw new Error(`fieldbook did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed)\n${this.stderrTail}`);
    }
    if (outcome.code !== 0) {
      throw new Error(
        `fieldbook did not shut down cleanly on SIGTERM: code ${outcome.code}, signal ${outcome.signal}\n${this.stderrTail}`,
      );
    }
  }

  /** Stops the server if it still runs (ignoring how it exits) and deletes its data directory. */
  async destroy() {
    await this.stop().catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
