// Screens loaded when first opened, rendered without suspending once their code is in.
//
// React.lazy suspends on every first render, even when the module was fetched already
// (each import() is a new promise), and React holds a revealed Suspense boundary's
// content back for up to 300 ms after its fallback showed: the screen whose chunk was
// preloaded at start-up then appeared a third of a second after it could have. Here the
// loaded component is kept, so a screen whose code is in renders at once; only one still
// loading suspends (React's use() on the loader's promise).
import { use, type ComponentType, type JSX } from "react";

export interface Screen<P extends object> {
  (props: P): JSX.Element;
  /** Starts loading the screen's code (once); a failed load is tried again next time. */
  preload(): Promise<unknown>;
  /** Whether the screen's code is loaded (it renders without suspending). */
  readonly loaded: boolean;
}

export function screen<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): Screen<P> {
  let component: ComponentType<P> | undefined;
  let pending: Promise<{ default: ComponentType<P> }> | undefined;
  const preload = () =>
    (pending ??= load().then(
      (m) => {
        component = m.default;
        return m;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    ));
  function Screen(props: P) {
    const C = component ?? use(preload()).default;
    return <C {...props} />;
  }
  // (defineProperty, not Object.assign, which would copy the getter's value once.)
  return Object.defineProperties(Screen, {
    preload: { value: preload },
    loaded: { get: () => component !== undefined },
  }) as Screen<P>;
}
