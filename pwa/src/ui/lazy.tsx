import { h, type ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

export type LazyComponent<P> = ComponentType<P> & { preload: () => Promise<unknown> };

/**
 * A screen whose code is in its own chunk, loaded when first shown or by
 * `preload` (after the first paint), so opening the app to the capture field
 * never waits for the editor, the dashboard or the export code. The service
 * worker precaches every chunk, so this works offline too.
 */
export function lazyComponent<P extends object>(load: () => Promise<ComponentType<P>>): LazyComponent<P> {
  let loaded: ComponentType<P> | null = null;
  let loading: Promise<ComponentType<P>> | null = null;
  const preload = () => (loading ??= load().then((component) => (loaded = component)));
  function Lazy(props: P) {
    const [, setReady] = useState(loaded !== null);
    useEffect(() => {
      if (!loaded) void preload().then(() => setReady(true));
    }, []);
    return loaded ? h(loaded, props) : <p class="empty">Opening…</p>;
  }
  return Object.assign(Lazy, { preload });
}
