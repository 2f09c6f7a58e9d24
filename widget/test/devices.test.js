import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import jsQR from 'jsqr';
import { JSDOM } from 'jsdom';

import { deviceName } from '../src/device-name.js';
import { showCode, timeLeft } from '../src/devices.js';
import { qrModules, qrSvg } from '../src/qr.js';
import { groupKey, keyFile } from '../src/recovery.js';
import { createTokenStore } from '../src/token-store.js';
import { t, useLanguage, withWords } from '../src/i18n.js';
import { storageWindow } from '../test-support/fakes.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // the whole English catalog, as this on-demand module gets it

const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const WINDOWS_FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const MAC_EDGE =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';


describe('device names', () => {
  test('client hints name the browser and the system, without the engine or GREASE brands', () => {
    const brands = [{ brand: 'Not_A Brand' }, { brand: 'Chromium' }, { brand: 'Google Chrome' }];
    assert.equal(deviceName({ userAgent: ANDROID_CHROME, userAgentData: { brands, platform: 'Android' } }, t), 'Chrome on Android');
    const edge = [{ brand: 'Microsoft Edge' }, { brand: 'Chromium' }];
    assert.equal(deviceName({ userAgentData: { brands: edge, platform: 'Windows' } }, t), 'Edge on Windows');
    assert.equal(deviceName({ userAgentData: { brands: [{ brand: 'Chromium' }], platform: 'Linux' } }, t), 'Chromium on Linux');
  });

  test('without client hints the user-agent string is read', () => {
    assert.equal(deviceName({ userAgent: ANDROID_CHROME }, t), 'Chrome on Android');
    assert.equal(deviceName({ userAgent: IPHONE_SAFARI }, t), 'Safari on iOS');
    assert.equal(deviceName({ userAgent: WINDOWS_FIREFOX }, t), 'Firefox on Windows');
    assert.equal(deviceName({ userAgent: MAC_EDGE }, t), 'Edge on macOS');
    assert.equal(deviceName({ userAgent: '' }, t), 'Browser');
  });

  test('a name fits the service limit of 60 characters', () => {
    const long = [{ brand: 'x'.repeat(80) }];
    assert.ok(deviceName({ userAgentData: { brands: long, platform: 'Linux' } }, t).length <= 60);
  });
});

describe('link codes', () => {
  test('a code without dashes is shown in groups of four; one with dashes as it came', () => {
    assert.equal(showCode('ABCDEFGHJKMNPQ'), 'ABCD-EFGH-JKMN-PQ');
    assert.equal(showCode('ABCD-EFGH'), 'ABCD-EFGH');
  });

  test('the countdown reads minutes and seconds, and stops at 0:00', () => {
    assert.equal(timeLeft(600_000, 0), '10:00');
    assert.equal(timeLeft(600_000, 54_500), '9:06');
    assert.equal(timeLeft(600_000, 599_001), '0:01');
    assert.equal(timeLeft(600_000, 700_000), '0:00');
  });
});

describe('recovery key', () => {
  const KEY = 'q3Jc9xWvT0_aB-12345678901234567890abcdefg';

  test('the sheet groups the key in fours, and removing the spaces gives it back', () => {
    const grouped = groupKey(KEY);
    assert.match(grouped, /^(\S{4} )+\S{1,4}$/);
    assert.equal(grouped.replace(/\s+/g, ''), KEY);
  });

  test('the downloaded file holds the key on a line of its own, what it is and how to use it', () => {
    const text = keyFile(KEY, 'https://notes.example', t, new Date('2026-12-02T10:00:00Z'));
    assert.ok(text.split('\n').includes(KEY));
    assert.match(text, /notes service: https:\/\/notes\.example/);
    assert.match(text, /Use another recovery key/);
    assert.match(text, /Saved on 2026-12-02/);
  });

  test('a QR code is a square of modules with its three finder patterns', () => {
    const modules = qrModules(KEY);
    const n = modules.length;
    assert.ok(n >= 21 && modules.every((row) => row.length === n));
    for (const [r, c] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
      assert.ok(modules[r][c] && modules[r + 6][c + 6] && modules[r + 3][c + 3] && !modules[r + 1][c + 1]);
    }
    assert.notDeepEqual(qrModules(`${KEY}x`), modules);
  });

  test('a QR code reads back as its text (jsQR, a real decoder) in the recovery key and link URL sizes', () => {
    for (const text of [KEY, 'https://notes.example/link#code=HVS4-6Y7P-GQQS-YTY5-SAA5']) {
      const modules = qrModules(text);
      const scale = 4;
      const side = (modules.length + 8) * scale;
      const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
      modules.forEach((row, y) =>
        row.forEach((dark, x) => {
          if (!dark) return;
          for (let dy = 0; dy < scale; dy++) {
            for (let dx = 0; dx < scale; dx++) {
              const at = (((y + 4) * scale + dy) * side + (x + 4) * scale + dx) * 4;
              pixels.fill(0, at, at + 3);
            }
          }
        }),
      );
      assert.equal(jsQR(pixels, side, side)?.data, text);
    }
  });

  test('the QR code is an SVG path with an accessible name, built without markup strings', () => {
    const { document } = new JSDOM('').window;
    const svg = qrSvg(document, KEY, 'The recovery key as a QR code');
    assert.equal(svg.getAttribute('role'), 'img');
    assert.equal(svg.getAttribute('aria-label'), 'The recovery key as a QR code');
    const n = qrModules(KEY).length;
    assert.equal(svg.getAttribute('viewBox'), `0 0 ${n + 8} ${n + 8}`);
    const dark = qrModules(KEY).flat().filter(Boolean).length;
    assert.equal(svg.querySelector('path').getAttribute('d').match(/M/g).length, dark);
  });

  test('"saved" belongs to the token it was marked for; forgetting the token forgets the mark', () => {
    const view = storageWindow();
    const store = createTokenStore(view, 'https://notes.example');
    assert.equal(store.keySaved(), null);
    store.store('token-one');
    assert.equal(store.keySaved(), null);
    store.markKeySaved('downloaded');
    assert.equal(store.keySaved()?.how, 'downloaded');
    store.store('token-two');
    assert.equal(store.keySaved(), null, 'a new notebook key is not saved yet');
    store.markKeySaved('printed');
    store.forget();
    assert.equal(store.read(), null);
    assert.equal(view.items.size, 0);
  });

  test('an account token lives under its own key, beside the browser\'s own notebook', () => {
    const view = storageWindow();
    createTokenStore(view, 'https://notes.example').store('own');
    createTokenStore(view, 'https://notes.example', 'account').store('vouched');
    assert.equal(view.items.get('trial-notes:token:https://notes.example'), 'own');
    assert.equal(view.items.get('trial-notes:account:https://notes.example'), 'vouched');
  });
});
