// The one way the app keeps a small value in the browser's localStorage (or
// sessionStorage): a value under one key, written at once and read back
// defensively, so a missing, damaged or foreign value reads as the fallback
// and never throws. Which keys there are, and which of them signing out
// removes, is in keys.ts.

/** How a value is kept as a string. */
export interface Codec<T> {
  /** The value `raw` holds, or undefined if it holds none. */
  decode(raw: string): T | undefined;
  encode(value: T): string;
}

/** A value kept as JSON; `check` returns it in shape, or undefined. */
export function json<T>(check: (value: unknown) => T | undefined): Codec<T> {
  return {
    decode(raw) {
      try {
        return check(JSON.parse(raw));
      } catch {
        return undefined;
      }
    },
    encode: (value) => JSON.stringify(value),
  };
}

/** A plain string, kept as it is. */
export const TEXT: Codec<string> = { decode: (raw) => raw, encode: (value) => value };

export class Stored<T> {
  readonly key: string;
  readonly #codec: Codec<T>;
  readonly #fallback: T;
  readonly #storage: Storage | "tab" | undefined;

  /** `storage` is localStorage unless given: "tab" for sessionStorage, or
   * one in memory for tests. */
  constructor(key: string, codec: Codec<T>, fallback: T, storage?: Storage | "tab") {
    this.key = key;
    this.#codec = codec;
    this.#fallback = fallback;
    this.#storage = storage;
  }

  read(): T {
    const raw = this.#store.getItem(this.key);
    return (raw === null ? undefined : this.#codec.decode(raw)) ?? this.#fallback;
  }

  write(value: T): void {
    this.#store.setItem(this.key, this.#codec.encode(value));
  }

  remove(): void {
    this.#store.removeItem(this.key);
  }

  // Looked up when used, so a module can make its Stored before the page
  // has a localStorage (in unit tests, in Node).
  get #store(): Storage {
    return this.#storage === "tab" ? sessionStorage : (this.#storage ?? localStorage);
  }
}
