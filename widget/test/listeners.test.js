// The listener collection and the modules that hang listeners on the page:
// after destroy() the page holds none of them, and no timer or observer is left.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createListeners } from '../src/listeners.js';
import { watchSelection } from '../src/selection.js';
import { bindShortcuts } from '../src/shortcuts.js';

/**
 * An event target that tells listeners apart the way the DOM does (type, function, capture)
 * and lists the live ones. (Node's own EventTarget does not honour a boolean capture flag in
 * removeEventListener, so it can't stand in for the page's.)
 */
class CountingTarget {
  live = new Map();

  static key(type, fn, options) {
    const capture = typeof options === 'boolean' ? options : Boolean(options?.capture);
    return `${type} ${capture} ${fnId(fn)}`;
  }

  addEventListener(type, fn, options) {
    this.live.set(CountingTarget.key(type, fn, options), { type, fn });
  }

  removeEventListener(type, fn, options) {
    this.live.delete(CountingTarget.key(type, fn, options));
  }

  dispatchEvent(event) {
    event.composedPath = () => [this];
    for (const { type, fn } of [...this.live.values()]) if (type === event.type) fn(event);
  }

  get types() {
    return [...this.live.values()].map((l) => l.type).sort();
  }
}

const ids = new WeakMap();
let serial = 0;
function fnId(fn) {
  if (!ids.has(fn)) ids.set(fn, ++serial);
  return ids.get(fn);
}

/** A window with MutationObservers and timers that report what is still running. */
function fakeView() {
  const observers = new Set();
  const timers = new Set();
  class MutationObserver {
    constructor(fn) {
      this.fn = fn;
    }
    observe() {
      observers.add(this);
    }
    disconnect() {
      observers.delete(this);
    }
  }
  const view = new CountingTarget();
  Object.assign(view, {
    MutationObserver,
    setTimeout(fn, ms) {
      const id = setTimeout(() => {
        timers.delete(id);
        fn();
      }, ms);
      timers.add(id);
      return id;
    },
    clearTimeout(id) {
      clearTimeout(id);
      timers.delete(id);
    },
    getSelection: () => null,
    matchMedia: () => ({ matches: false }),
  });
  return { view, observers, timers };
}

describe('listener collection', () => {
  test('destroy() removes every listener, with the capture flag it was added with', () => {
    const { view } = fakeView();
    const target = new CountingTarget();
    const listeners = createListeners(view);
    const seen = [];
    listeners.on(target, 'click', () => seen.push('click'));
    listeners.on(target, 'keydown', () => seen.push('key'), true);
    listeners.on(target, 'scroll', () => seen.push('scroll'), { capture: true, passive: true });
    assert.deepEqual(target.types, ['click', 'keydown', 'scroll']);
    target.dispatchEvent(new Event('click'));
    listeners.destroy();
    assert.deepEqual(target.types, []);
    target.dispatchEvent(new Event('click'));
    target.dispatchEvent(new Event('keydown'));
    assert.deepEqual(seen, ['click']);
  });

  test('destroy() disconnects observers and drops pending debounced runs', async () => {
    const { view, observers, timers } = fakeView();
    const listeners = createListeners(view);
    let runs = 0;
    listeners.observe({}, { childList: true }, () => {});
    listeners.observe({}, { subtree: true }, () => {});
    const soon = listeners.debounce(() => runs++);
    soon(5);
    soon(5); // one pending run, not two
    assert.equal(observers.size, 2);
    assert.equal(timers.size, 1);
    listeners.destroy();
    assert.equal(observers.size, 0);
    assert.equal(timers.size, 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(runs, 0);
  });

  test('destroy() disconnects size observers', () => {
    const { view } = fakeView();
    const live = new Set();
    view.ResizeObserver = class {
      observe(target) {
        live.add(target);
      }
      disconnect() {
        live.clear();
      }
    };
    const listeners = createListeners(view);
    listeners.resized([{}, {}], () => {});
    assert.equal(live.size, 2);
    listeners.destroy();
    assert.equal(live.size, 0);
  });

  test('onDestroy steps run once, last added first; a second destroy() does nothing', () => {
    const { view } = fakeView();
    const listeners = createListeners(view);
    const order = [];
    listeners.onDestroy(() => order.push('first'));
    listeners.onDestroy(() => order.push('second'));
    listeners.destroy();
    listeners.destroy();
    assert.deepEqual(order, ['second', 'first']);
  });
});

describe('the modules that listen to the page', () => {
  test('the selection observer and the shortcuts leave nothing on the page after destroy()', () => {
    const { view, observers, timers } = fakeView();
    const doc = new CountingTarget();
    const listeners = createListeners(view);
    const ui = { host: {}, modalOpen: () => false, adderShown: () => false, hideAdder() {}, announce() {} };
    watchSelection({
      doc,
      view,
      listeners,
      getRoot: () => null,
      notes: { index: () => null, find: () => undefined },
      ui,
      highlighter: { notesAt: () => [], focus() {}, hitTest: () => null },
      openNote() {},
    });
    bindShortcuts({ doc, listeners, ui, addNote() {} });
    assert.deepEqual(doc.types, ['click', 'keydown', 'pointercancel', 'pointerdown', 'pointerup', 'selectionchange']);
    assert.deepEqual(view.types, ['resize', 'scroll']);
    // A pointer released on the page starts the settle timer.
    doc.dispatchEvent(new Event('pointerup'));
    assert.equal(timers.size, 1);
    listeners.destroy();
    assert.deepEqual(doc.types, []);
    assert.deepEqual(view.types, []);
    assert.equal(timers.size, 0);
    assert.equal(observers.size, 0);
  });
});
