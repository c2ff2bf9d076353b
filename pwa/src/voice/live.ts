// A live transcript while recording, only where the browser promises to do
// the recognition on the device (`processLocally`). Browsers whose
// SpeechRecognition sends audio to a cloud service (or that cannot say)
// get no live transcript: the words never leave the device that way.

interface LocalRecognitionOptions {
  langs: string[];
  processLocally: boolean;
}

interface RecognitionResultList {
  length: number;
  [index: number]: { isFinal: boolean; 0: { transcript: string } };
}

interface Recognition {
  lang: string;
  continuous: boolean;
  interimResults: boolean;
  processLocally: boolean;
  onresult: ((event: { results: RecognitionResultList }) => void) | null;
  onerror: (() => void) | null;
  start(): void;
  stop(): void;
}

interface RecognitionClass {
  new (): Recognition;
  available?: (options: LocalRecognitionOptions) => Promise<string>;
}

const LANG = "en-GB";

function recognitionClass(): RecognitionClass | undefined {
  const scope = globalThis as unknown as { SpeechRecognition?: RecognitionClass; webkitSpeechRecognition?: RecognitionClass };
  return scope.SpeechRecognition ?? scope.webkitSpeechRecognition;
}

/** True only if on-device recognition of UK English is ready to use now. */
export async function localRecognitionAvailable(): Promise<boolean> {
  const Class = recognitionClass();
  if (typeof Class?.available !== "function") return false;
  try {
    return (await Class.available({ langs: [LANG], processLocally: true })) === "available";
  } catch {
    return false;
  }
}

/** Starts on-device recognition; `onText` gets the whole transcript so far.
 * Returns a function that stops it. Call only after localRecognitionAvailable(). */
export function startLocalRecognition(onText: (text: string) => void): () => void {
  const Class = recognitionClass();
  if (!Class) return () => {};
  const recognition = new Class();
  recognition.lang = LANG;
  recognition.continuous = true;
  recognition.interimResults = true;
  // Required: without it the browser may use a server.
  recognition.processLocally = true;
  recognition.onresult = (event) => {
    const parts: string[] = [];
    for (let i = 0; i < event.results.length; i++) parts.push(event.results[i][0].transcript.trim());
    onText(parts.filter(Boolean).join(" "));
  };
  recognition.onerror = () => {};
  try {
    recognition.start();
  } catch {
    return () => {};
  }
  return () => {
    try {
      recognition.stop();
    } catch {
      // Already stopped.
    }
  };
}
