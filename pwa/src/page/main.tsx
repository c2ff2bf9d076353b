// The page's entry point: render at once (capture works before the drafts
// have loaded), then register the service worker for offline use.
import { render } from "preact";
import { App } from "./App";
import { registerServiceWorker } from "./updates";
import "./styles.css";

render(<App />, document.getElementById("app")!);
void registerServiceWorker().catch(() => undefined);
