// The server's account API, and the session this device remembers so the app
// opens straight to capture next time, online or not. The session cookie
// itself is HttpOnly: scripts never see the token.

import { USER_KEYS } from "../local/keys";
import { json, Stored } from "../local/stored";

export interface StoredSession {
  userId: string;
  email: string;
  rootDocUrl: string;
  deviceId: string;
  deviceName: string;
}

const remembered = new Stored<StoredSession | null>(
  USER_KEYS.session(""),
  json((session) => (isSession(session) ? session : undefined)),
  null,
);

function isSession(value: unknown): value is StoredSession {
  const session = value as StoredSession | null;
  return !!session && typeof session.userId === "string" && typeof session.rootDocUrl === "string";
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function storedSession(): StoredSession | null {
  return remembered.read();
}

export function rememberSession(session: StoredSession): void {
  remembered.write(session);
}

/** A name for this device in the user's device list, e.g. "Chrome on Android". */
export function describeDevice(userAgent: string): string {
  const os = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Mac OS X/.test(userAgent)
        ? "Mac"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /Linux/.test(userAgent)
            ? "Linux"
            : "a device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrome\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : "Browser";
  return `${browser} on ${os}`;
}

/** One JSON request to our server; failures become ApiError with the server's code. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "No connection to the Fieldbook server. Check your signal and try again.");
  }
  if (response.ok) {
    return (response.status === 204 ? undefined : await response.json()) as T;
  }
  const error = await response.json().catch(() => null);
  throw new ApiError(
    response.status,
    error?.error?.code ?? "error",
    error?.error?.message ?? `The server could not do that (${response.status}).`,
  );
}

export async function register(email: string, password: string): Promise<void> {
  await call("POST", "/api/auth/register", { email, password });
}

export async function login(email: string, password: string): Promise<StoredSession> {
  const deviceName = describeDevice(navigator.userAgent);
  const reply = await call<{ userId: string; deviceId: string; rootDocUrl: string }>("POST", "/api/auth/login", {
    email,
    password,
    deviceName,
  });
  return { userId: reply.userId, deviceId: reply.deviceId, rootDocUrl: reply.rootDocUrl, email: email.trim().toLowerCase(), deviceName };
}

export async function logout(): Promise<void> {
  await call("POST", "/api/auth/logout");
}

/** False only when the server says the session is no longer valid. */
export async function sessionIsValid(): Promise<boolean> {
  try {
    await call("GET", "/api/me");
    return true;
  } catch (error) {
    return !(error instanceof ApiError && error.status === 401);
  }
}

/** Deletes a draft on the server, so no device can bring it back. */
export async function deleteDocument(documentId: string): Promise<void> {
  try {
    await call("DELETE", `/api/documents/${encodeURIComponent(documentId)}`);
  } catch (error) {
    // Already gone (e.g. deleted from another device) is what we wanted.
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}
