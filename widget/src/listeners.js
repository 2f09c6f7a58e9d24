// @ts-check
// Everything the widget hangs on the host page: its listeners, observers and
// timers, kept in one collection so that destroy() takes every one of them
// away again. Nothing else in the widget calls addEventListener on the page,
// observe() or setTimeout for page events (test/listeners.test.js holds the
// page's side to that).

/**
 * @typedef {object} Listeners
 * @property {<K extends string>(target: EventTarget, type: K,
 *   fn: (event: K extends keyof WindowEventMap ? WindowEventMap[K] : Event) => void,
 *   options?: boolean | AddEventListenerOptions) => void} on
 *   Add a listener (its event typed by the name, as addEventListener types it); it is removed
 *   on destroy() with the same capture flag.
 * @property {(target: Node, options: MutationObserverInit, fn: MutationCallback) => MutationObserver} observe
 *   Observe `target` with a new MutationObserver, disconnected on destroy().
 * @property {(targets: Element[], fn: () => void) => void} resized
 *   Run `fn` when one of `targets` changes size (a ResizeObserver, disconnected on destroy(); an
 *   engine without one never runs it).
 * @property {(fn: () => void) => (ms: number) => void} debounce
 *   A function that runs `fn` once, `ms` after its last call; a pending run is dropped on destroy().
 * @property {(fn: () => void) => void} onDestroy  Run `fn` on destroy() (removing what the widget added).
 * @property {() => void} destroy  Undo everything, last added first; later calls do nothing.
 */

/**
 * A listener collection for the page in `view` (the window whose MutationObserver and timers it uses).
 * @param {Window & typeof globalThis} view
 * @returns {Listeners}
 */
export function createListeners(view) {
  /** @type {Array<() => void>} */
  let undo = [];
  /** @type {Listeners['onDestroy']} */
  const onDestroy = (fn) => {
    undo.push(fn);
  };
  return {
    on(target, type, fn, options) {
      // The event map gives `fn` the event type its name fires with; EventTarget's own
      // signature only knows Event.
      const listener = /** @type {EventListener} */ (fn);
      target.addEventListener(type, listener, options);
      onDestroy(() => target.removeEventListener(type, listener, options));
    },
    observe(target, options, fn) {
      const observer = new view.MutationObserver(fn);
      observer.observe(target, options);
      onDestroy(() => observer.disconnect());
      return observer;
    },
    resized(targets, fn) {
      if (!view.ResizeObserver) return;
      const observer = new view.ResizeObserver(() => fn());
      for (const target of targets) observer.observe(target);
      onDestroy(() => observer.disconnect());
    },
    debounce(fn) {
      let timer = 0;
      onDestroy(() => view.clearTimeout(timer));
      return (ms) => {
        view.clearTimeout(timer);
        timer = view.setTimeout(fn, ms);
      };
    },
    onDestroy,
    destroy() {
      const steps = undo.reverse();
      undo = [];
      for (const step of steps) step();
    },
  };
}
