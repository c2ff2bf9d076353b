// What the capture screen is writing into, kept in localStorage (written
// synchronously on every keystroke) so that:
// - words typed before the drafts have loaded are kept until they can be
//   added as a draft (the first open after sign-in, or the first few hundred
//   milliseconds of a cold start);
// - a reload comes back to the same note.

export interface CaptureTarget {
  draftId: string;
  noteId: string;
}

export interface CaptureState {
  /** Text not yet in any draft. */
  unsaved: string;
  /** The note being written, once it exists. */
  target: CaptureTarget | null;
}

export class CaptureMemory {
  readonly #key: string;
  readonly #storage: Storage;

  constructor(key: string, storage: Storage) {
    this.#key = key;
    this.#storage = storage;
  }

  read(): CaptureState {
    try {
      const state = JSON.parse(this.#storage.getItem(this.#key) ?? "null");
      if (state && typeof state.unsaved === "string") return state as CaptureState;
    } catch {
      // Fall through to an empty state.
    }
    return { unsaved: "", target: null };
  }

  write(state: CaptureState): void {
    this.#storage.setItem(this.#key, JSON.stringify(state));
  }

  clear(): void {
    this.#storage.removeItem(this.#key);
  }
}
