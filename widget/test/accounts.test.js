import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, test } from 'node:test';

import { fetchGrant, grantSubject, renewal, renewing, vouchedTokens } from '../src/accounts.js';
import { ApiError } from '../src/api.js';
import { createTokenStore } from '../src/token-store.js';
import { t, useLanguage, withWords } from '../src/i18n.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // the whole English catalog, as this on-demand module gets it

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const jwt = (claims) => `${b64url({ alg: 'ES256' })}.${b64url(claims)}.c2ln`;

/** A page's window: localStorage, crypto, location, and a host answering the grant URL with `reply`. */
function fakeWindow(reply) {
  const items = new Map();
  const asked = [];
  return {
    items,
    asked,
    location: { href: 'https://host.example/trial' },
    navigator: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' },
    crypto: webcrypto,
    AbortSignal,
    localStorage: {
      getItem: (k) => (items.has(k) ? items.get(k) : null),
      setItem: (k, v) => items.set(k, String(v)),
      removeItem: (k) => items.delete(k),
    },
    fetch: async (url, init) => {
      asked.push({ url, init });
      return reply();
    },
  };
}

/** The service: POST /api/v1/grants answers with a new device token each time. */
function fakeApi() {
  const calls = [];
  return {
    calls,
    call: async (method, path, body, token) => {
      calls.push({ method, path, body, token });
      if (method === 'DELETE') return null;
      const n = calls.filter((c) => c.method === 'POST').length;
      return { token: `account-token-${n}`, notebook_id: 'n', device_id: `device-${n}`, created: n === 1 };
    },
  };
}

const API = 'https://notes.example';
const stores = (view) => ({ own: createTokenStore(view, API), account: createTokenStore(view, API, 'account') });
const grantFor = (sub) => () => Response.json({ grant: jwt({ iss: 'https://host.example', sub, exp: 1 }) });

describe('vouched accounts', () => {
  test('the grant names its reader by iss and sub; anything else names nobody', () => {
    assert.equal(grantSubject(jwt({ iss: 'h', sub: 'u1' })), 'h\nu1');
    assert.equal(grantSubject(jwt({ iss: 'h' })), null);
    assert.equal(grantSubject('not a jwt'), null);
  });

  test('the grant URL is asked with the host cookies; 401, 403 and no grant mean signed out', async () => {
    const view = fakeWindow(grantFor('u1'));
    assert.match(await fetchGrant(view, 'https://host.example/grant'), /\./);
    assert.equal(view.asked[0].init.credentials, 'include');
    for (const answer of [new Response(null, { status: 401 }), new Response(null, { status: 403 }), Response.json({})]) {
      assert.equal(await fetchGrant(fakeWindow(() => answer), '/grant'), null);
    }
    assert.equal(await fetchGrant(fakeWindow(() => new Response(null, { status: 502 })), '/grant'), undefined);
    const offline = fakeWindow(() => Promise.reject(new TypeError('offline')));
    assert.equal(await fetchGrant(offline, '/grant'), undefined);
  });

  test('a host that does not answer is given up on, as one that could not be asked', async () => {
    const hanging = fakeWindow(() => new Promise(() => {}));
    hanging.fetch = (url, init) =>
      new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    const started = Date.now();
    const alive = setTimeout(() => {}, 5000); // AbortSignal.timeout's timer keeps no test running
    assert.equal(await fetchGrant(hanging, '/grant', 50), undefined);
    clearTimeout(alive);
    assert.ok(Date.now() - started < 5000);
  });

  test('a signed-in reader gets the account token once, beside the browser\'s own notebook', async () => {
    const view = fakeWindow(grantFor('u1'));
    const { own, account } = stores(view);
    own.store('own-token');
    const api = fakeApi();
    const first = await vouchedTokens({ view, api, apiBase: API, grantUrl: '/grant', own, account, t });
    assert.equal(first.tokens, account);
    assert.equal(account.read(), 'account-token-1');
    assert.deepEqual(api.calls[0].body.device_name, 'Chrome on Linux');
    assert.equal(api.calls[0].token, null, 'the exchange carries no bearer token');
    // The next visit: the same reader keeps the device token; no grant is spent.
    await vouchedTokens({ view, api, apiBase: API, grantUrl: '/grant', own, account, t });
    assert.equal(api.calls.length, 1);
    assert.equal(own.read(), 'own-token', 'the browser\'s own notebook is untouched');
    assert.ok(![...view.items.values()].some((v) => v.includes('u1')), 'localStorage names no host user');
  });

  test('another reader signing in gets their own token; signing out forgets the account', async () => {
    let sub = 'u1';
    const view = fakeWindow(() => grantFor(sub)());
    const { own, account } = stores(view);
    const api = fakeApi();
    await vouchedTokens({ view, api, apiBase: API, grantUrl: '/grant', own, account, t });
    sub = 'u2';
    await vouchedTokens({ view, api, apiBase: API, grantUrl: '/grant', own, account, t });
    assert.equal(account.read(), 'account-token-2');
    const out = fakeWindow(() => new Response(null, { status: 401 }));
    out.items = view.items;
    out.localStorage = view.localStorage;
    const after = await vouchedTokens({ view: out, api, apiBase: API, grantUrl: '/grant', own, account, t });
    assert.equal(after.tokens, own);
    assert.equal(account.read(), null);
    assert.equal(view.items.size, 0);
    // Each reader's device left the account when the next signed in, or on sign-out.
    const removed = api.calls.filter((c) => c.method === 'DELETE');
    assert.deepEqual(
      removed.map((c) => [c.path, c.token]),
      [
        ['/api/v1/notebooks/me/devices/device-1', 'account-token-1'],
        ['/api/v1/notebooks/me/devices/device-2', 'account-token-2'],
      ],
    );
  });

  test('a grant the service refuses leaves the reader on their own notebook, with the reason', async () => {
    const view = fakeWindow(grantFor('u1'));
    const { own, account } = stores(view);
    const refused = new Error('The grant has expired.');
    const api = { call: async () => Promise.reject(refused) };
    const result = await vouchedTokens({ view, api, apiBase: API, grantUrl: '/grant', own, account, t });
    assert.equal(result.tokens, own);
    assert.equal(result.refusal, refused);
    assert.equal(account.read(), null);
  });
});

describe("an account's token refused (this browser's device removed on another device)", () => {
  /** Signed in as u1 with a first device; the service then refuses that device's token. */
  async function signedIn(reply = grantFor('u1')) {
    const view = fakeWindow(() => reply());
    const { own, account } = stores(view);
    const api = fakeApi();
    const v = { view, api, apiBase: API, grantUrl: '/grant', own, account, t };
    const { mark } = await vouchedTokens(v);
    assert.equal(account.read(), 'account-token-1');
    const grants = () => api.calls.filter((c) => c.path === '/api/v1/grants').length;
    return { view, api, account, grants, renew: renewal(v, mark) };
  }

  test('the host still vouches for the reader: its grant adds this browser again, calls at once share it', async () => {
    const { view, account, grants, renew } = await signedIn();
    const [first, second] = await Promise.all([renew('account-token-1'), renew('account-token-1')]);
    assert.equal(first, 'account-token-2');
    assert.equal(second, 'account-token-2');
    assert.equal(grants(), 2, 'one grant more, not two');
    assert.equal(account.read(), 'account-token-2');
    assert.ok(view.items.get(`trial-notes:account-who:${API}`).includes('device-2'), 'the new device is kept');
    // A call refused with the old token after the renewal ended goes again with the new one.
    assert.equal(await renew('account-token-1'), 'account-token-2');
    assert.equal(grants(), 2);
  });

  test('renewed in another tab (the same storage): the call goes again with the token held now', async () => {
    const { account, grants, renew } = await signedIn();
    account.store('account-token-from-another-tab');
    assert.equal(await renew('account-token-1'), 'account-token-from-another-tab');
    assert.equal(grants(), 1);
  });

  test('a page that may not keep localStorage renews with the reader it signed in', async () => {
    const view = fakeWindow(grantFor('u1'));
    const blocked = () => {
      throw new DOMException('blocked', 'SecurityError');
    };
    view.localStorage = { getItem: blocked, setItem: blocked, removeItem: blocked };
    const { own, account } = stores(view);
    const api = fakeApi();
    const v = { view, api, apiBase: API, grantUrl: '/grant', own, account, t };
    const { mark } = await vouchedTokens(v);
    assert.equal(account.read(), 'account-token-1', 'kept in memory');
    const renew = renewal(v, mark);
    assert.equal(await renew('account-token-1'), 'account-token-2');
    assert.equal(account.read(), 'account-token-2');
    assert.equal(await renew('account-token-1'), 'account-token-2', 'a late refusal of the old token');
  });

  test('another reader signed in in another tab: a late refusal does not take their token', async () => {
    const { view, account, renew } = await signedIn();
    account.store('account-token-of-u2');
    view.items.set(`trial-notes:account-who:${API}`, JSON.stringify({ mark: 'someone-else', device: 'device-9' }));
    assert.equal(await renew('account-token-1'), null);
  });

  test("no new token when it is not the account's: the refusal stands, nothing asked", async () => {
    const { view, account, grants, renew } = await signedIn();
    const asked = view.asked.length;
    assert.equal(await renew('own-notebook-token'), null);
    assert.equal(view.asked.length, asked, 'the host was not asked');
    assert.equal(grants(), 1);
    assert.equal(account.read(), 'account-token-1');
  });

  test('signed out on the host, or another reader signed in: the refusal stands, for the next visit to see', async () => {
    let answer = grantFor('u1');
    const out = await signedIn(() => answer());
    answer = () => new Response(null, { status: 401 });
    assert.equal(await out.renew('account-token-1'), null);
    assert.equal(out.grants(), 1);
    assert.equal(out.account.read(), 'account-token-1', 'nothing forgotten here: the next page load signs out');
    answer = grantFor('u2');
    assert.equal(await out.renew('account-token-1'), null);
    assert.equal(out.grants(), 1, "u2's grant is not spent on u1's notebook");
    assert.equal(out.account.read(), 'account-token-1');
  });

  test('a call refused for its token goes once more with the renewed one; other refusals stand', async () => {
    const { account } = await signedIn();
    const sent = [];
    const service = async (method, path, body, token) => {
      sent.push(token);
      if (token === 'account-token-1' || path === '/still-refused') throw new ApiError(401, 'Unauthorized', 'Unknown token.');
      if (path === '/import') throw new ApiError(401, 'Unauthorized', '', { errors: { token: 'is not a live notebook token' } });
      return { ok: token };
    };
    const renewed = [];
    const call = renewing(service, account, async (token) => (renewed.push(token), 'account-token-2'));
    assert.deepEqual(await call('GET', '/notes'), { ok: 'account-token-2' });
    assert.deepEqual(sent, ['account-token-1', 'account-token-2'], "the account's token by default, then the new one");
    account.store('account-token-2');
    await assert.rejects(call('POST', '/import', {}), (err) => err.status === 401);
    assert.deepEqual(renewed, ['account-token-1'], 'a field refused is not the token refused');
    sent.length = 0;
    await assert.rejects(call('GET', '/still-refused'), (err) => err.status === 401);
    assert.deepEqual(sent, ['account-token-2', 'account-token-2'], 'sent once more, then the refusal stands');
    assert.deepEqual(renewed, ['account-token-1', 'account-token-2'], 'one renewal a call, not a loop');
    const stands = renewing(service, account, async () => null);
    account.store('account-token-1');
    await assert.rejects(stands('GET', '/notes'), (err) => err.status === 401);
  });
});
