// An error boundary around one part of a screen. A part that throws while
// rendering (data from another device in a shape this version does not read,
// or a bug) shows a plain message in its place and offers to try again; the
// rest of the screen keeps working. Nothing typed is lost: every keystroke is
// already in the draft (Automerge, in IndexedDB) before anything renders.
import { Component, type ComponentChildren } from "preact";

interface Props {
  /** What the part shows, as in "Something went wrong showing the notes". */
  what: string;
  children: ComponentChildren;
}

interface State {
  error: Error | null;
}

export class Boundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: unknown): void {
    // Kept on the device, in the browser's console, for whoever looks into it.
    console.error(`Fieldbook: ${this.props.what} failed to show`, error);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div class="part-error" role="alert">
        <p>
          <strong>Something went wrong showing {this.props.what}.</strong> What you typed is saved on this device, and the rest of this screen still works.
        </p>
        <p class="part-error-detail">{error.message}</p>
        <button type="button" class="button button-secondary" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
