import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ApiError, createApi } from '../src/api.js';
import { noteRoutes } from '../src/note-actions.js';
import { repliesApi } from '../src/replies.js';
import { shareActions } from '../src/shares-panel.js';
import { useLanguage } from '../src/i18n.js';

await useLanguage('en'); // the first-draw words only: this module is in the first load

const linksOf = (api) => shareActions({ api, trial: 'NCT07085104', apiBase: 'https://notes.example', hasNotebook: () => true, announce: () => {} });

/** A stand-in for the network that records requests and answers with `reply`. */
function network(reply) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return reply(url, init);
  };
  return { calls, fetchImpl };
}

const json = (status, body, type = 'application/json', headers = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': type, ...headers },
  });

describe('api', () => {
  test('owner calls carry the bearer token, no cookies and no referrer', async () => {
    const net = network(() => json(200, { notes: [] }));
    const api = createApi('https://notes.example', () => 'tok123', net.fetchImpl);
    assert.deepEqual(await api.listNotes('NCT07085104'), { notes: [] });
    const [{ url, init }] = net.calls;
    assert.equal(url, 'https://notes.example/api/v1/trials/NCT07085104/notes?limit=100');
    assert.equal(init.method, 'GET');
    assert.equal(init.credentials, 'omit');
    assert.equal(init.referrerPolicy, 'no-referrer');
    assert.equal(init.headers.Authorization, 'Bearer tok123');
    assert.equal(init.body, undefined);
  });

  test('creating a notebook sends no token', async () => {
    const net = network(() => json(201, { notebook_id: 'n', token: 't' }));
    const api = createApi('https://notes.example', () => 'old', net.fetchImpl);
    await noteRoutes(api).createNotebook();
    assert.equal(net.calls[0].init.headers.Authorization, undefined);
  });

  test('JSON bodies are sent as JSON; 204 gives null', async () => {
    const net = network((url, init) => (init.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { id: 'x' })));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await noteRoutes(api).updateNote('a/b', { color: 'green' });
    assert.equal(net.calls[0].url, 'https://notes.example/api/v1/notes/a%2Fb');
    assert.equal(net.calls[0].init.headers['Content-Type'], 'application/json');
    assert.equal(net.calls[0].init.body, '{"color":"green"}');
    assert.equal(await noteRoutes(api).deleteNote('x'), null);
  });

  test('a problem+json answer becomes an ApiError with its words', async () => {
    const problem = {
      type: 'about:blank',
      title: 'Quote not found',
      status: 422,
      detail: 'The selected text is not part of this trial.',
      errors: { target: ['not in the trial text'] },
    };
    const net = network(() => json(422, problem, 'application/problem+json', { 'Retry-After': '3' }));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(noteRoutes(api).createNote('NCT1', {}), (err) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 422);
      assert.equal(err.title, 'Quote not found');
      assert.equal(err.detail, 'The selected text is not part of this trial.');
      assert.deepEqual(err.errors, problem.errors);
      assert.equal(err.retryAfter, '3');
      // The detail, then the fields in the widget's words, then when to try again.
      assert.equal(
        err.message,
        'The selected text is not part of this trial. Highlighted text: not in the trial text. Try again in 3 seconds.',
      );
      return true;
    });
  });

  test("a note over the limit says why in the service's words, not only 'Invalid content'", async () => {
    // The problem the service sends for a 17,600-character note (notes/schemas.py).
    const problem = {
      type: 'https://trial-notes.example/problems/invalid',
      title: 'Invalid content',
      status: 422,
      detail: 'The note is not valid.',
      errors: { body: 'must be at most 10000 characters' },
    };
    const net = network(() => json(422, problem, 'application/problem+json'));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(noteRoutes(api).createNote('NCT1', {}), (err) => {
      assert.equal(err.message, 'The note is not valid. Note: must be at most 10000 characters.');
      assert.doesNotMatch(err.message, /Invalid content/);
      return true;
    });
  });

  test('a field message of another shape (nested, a number) is still said, not a TypeError', async () => {
    const problem = { type: 'x', title: 'Invalid content', status: 422, detail: 'The note is not valid.', errors: { body: [['too long'], 5] } };
    const net = network(() => json(422, problem, 'application/problem+json'));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(noteRoutes(api).createNote('NCT1', {}), (err) => {
      assert.equal(err.message, 'The note is not valid. Note: too long and 5.');
      return true;
    });
  });

  test('field errors: lists joined, fields the user cannot fix left to the detail', async () => {
    const errors = {
      'target.selector[0].exact': 'must be at most 2000 characters',
      passcode: ['must have 6 to 128 characters', 'must be a string'],
      '(body)': 'must be an object',
      note_ids: '2 unknown note id(s)',
    };
    const net = network(() => json(422, { title: 'Invalid content', detail: 'The share is not valid.', errors }, 'application/problem+json'));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(api.call('POST', '/api/v1/shares', {}), {
      message:
        'The share is not valid. Highlighted text: must be at most 2000 characters. Passcode: must have 6 to 128 characters and must be a string.',
    });
  });

  test("a field's words are the language's label form, its several messages the language's list", async () => {
    // The service answers in the reader's language; the widget names the field in its own.
    const said = {
      es: { passcode: ['debe tener de 6 a 128 caracteres', 'debe ser una cadena'], label: 'es obligatorio' },
      ar: { passcode: ['يجب أن يتكوّن من 6 إلى 128 حرفًا', 'يجب أن يكون نصًا'], label: 'مطلوب' },
    };
    const field = (name, words) => new ApiError(422, 'x', 'd', { errors: { [name]: words } }).message;
    try {
      await useLanguage('es');
      assert.equal(field('passcode', said.es.passcode), 'd Código de acceso: debe tener de 6 a 128 caracteres y debe ser una cadena.');
      assert.equal(field('label', said.es.label), 'd Etiqueta: es obligatorio.');
      await useLanguage('ar');
      // Arabic's own list ("و" joined to the next item) and its colon; each value isolated in the line.
      const [first, second] = said.ar.passcode;
      assert.equal(field('passcode', said.ar.passcode), `d \u2068رمز المرور\u2069: \u2068${first} و${second}\u2069.`);
      assert.equal(field('label', said.ar.label), 'd \u2068التسمية\u2069: \u2068مطلوب\u2069.');
    } finally {
      await useLanguage('en');
    }
  });

  test('a problem without a detail shows its title', async () => {
    const net = network(() => json(404, { title: 'Not found', status: 404 }, 'application/problem+json'));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(noteRoutes(api).deleteNote('x'), { status: 404, message: 'Not found.' });
  });

  test('429 and 503 say when to try again, from Retry-After', async () => {
    const replies = [
      json(429, { title: 'Too many requests', detail: 'Too many requests from this client. Wait and try again.' },
        'application/problem+json', { 'Retry-After': '60' }),
      json(503, { title: 'Service busy', detail: 'Too many passcode checks are running.' },
        'application/problem+json', { 'Retry-After': '1' }),
    ];
    const net = network(() => replies.shift());
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(api.call('POST', '/api/v1/shares', {}), {
      message: 'Too many requests from this client. Wait and try again. Try again in 60 seconds.',
    });
    await assert.rejects(api.call('POST', '/api/v1/shares', {}), { message: 'Too many passcode checks are running. Try again in 1 second.' });
  });

  test('a Retry-After that is not a number of seconds adds no wait', () => {
    for (const value of [null, '', '0', 'soon', 'Wed, 21 Oct 2026 07:28:00 GMT']) {
      assert.equal(new ApiError(429, 'Too many requests', 'Wait.', { retryAfter: value }).message, 'Wait.', String(value));
    }
    assert.equal(new ApiError(429, 'Too many requests', '', { retryAfter: '2.5' }).message, 'Too many requests. Try again in 3 seconds.');
  });

  test('an error without a problem body still says something', async () => {
    const net = network(() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(linksOf(api).page(null), { status: 502, message: 'Bad Gateway.' });
  });

  test('a network failure is a clear message, status 0', async () => {
    const api = createApi('https://notes.example', () => 't', async () => {
      throw new TypeError('Failed to fetch');
    });
    await assert.rejects(api.listNotes('NCT1'), {
      status: 0,
      message: "Can't reach the notes service. Check your connection and try again.",
    });
  });

  test('shares come one page at a time, for one trial', async () => {
    const net = network(() => json(200, { shares: [{ id: 's1' }], next: 'x+1' }));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    assert.deepEqual(await linksOf(api).page(null), { shares: [{ id: 's1' }], next: 'x+1' });
    await linksOf(api).page('x+1');
    assert.equal(net.calls[0].url, 'https://notes.example/api/v1/shares?trial_id=NCT07085104&limit=20');
    assert.equal(net.calls[1].url, 'https://notes.example/api/v1/shares?trial_id=NCT07085104&limit=20&cursor=x%2B1');
  });

  test("a share says the family's language; a refusal is the reader's to see, and nothing is sent twice", async () => {
    const problem = (errors) => json(422, { title: 'Invalid content', status: 422, errors }, 'application/problem+json');
    const bodies = (net) => net.calls.map((c) => JSON.parse(c.init.body));
    let net = network(() => json(201, { id: 's1', url: '/s/abc', passcode: '123-456-789' }));
    const share = await linksOf(createApi('https://notes.example', () => 't', net.fetchImpl)).create({ note_ids: ['n1'], expires_in_days: 7, language: 'ar' });
    assert.equal(share.url, 'https://notes.example/s/abc');
    assert.deepEqual(bodies(net).map((b) => b.language), ['ar']);
    net = network(() => problem({ language: 'must be one of en, es, ar' }));
    await assert.rejects(linksOf(createApi('https://notes.example', () => 't', net.fetchImpl)).create({ note_ids: ['n1'], expires_in_days: 7, language: 'fr' }), { status: 422 });
    assert.equal(net.calls.length, 1);
  });

  test('the owner unlocks, changes, revokes and deletes a share by its id', async () => {
    const net = network((url, init) => (init.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { id: 's/1' })));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    const links = linksOf(api);
    await links.unlock('s/1');
    await links.update('s/1', { replies_allowed: false });
    assert.equal(await links.revoke('s/1'), undefined);
    assert.equal(await links.remove('s/1'), undefined);
    assert.deepEqual(
      net.calls.map((c) => [c.init.method, c.url, c.init.body]),
      [
        ['POST', 'https://notes.example/api/v1/shares/s%2F1/unlock', undefined],
        ['PATCH', 'https://notes.example/api/v1/shares/s%2F1', '{"replies_allowed":false}'],
        ['DELETE', 'https://notes.example/api/v1/shares/s%2F1', undefined],
        ['DELETE', 'https://notes.example/api/v1/shares/s%2F1/record', undefined],
      ],
    );
  });

  test('replies: every page listed, seen ones marked, one deleted', async () => {
    const net = network((url, init) => {
      if (init.method !== 'GET') return new Response(null, { status: 204 });
      return json(200, url.includes('cursor=') ? { replies: [{ id: 'r2' }], next: null } : { replies: [{ id: 'r1' }], next: 'n' });
    });
    const replies = repliesApi(createApi('https://notes.example', () => 't', net.fetchImpl));
    assert.deepEqual(await replies.list('NCT1'), [{ id: 'r1' }, { id: 'r2' }]);
    await replies.seen('NCT1', ['r1', 'r2']);
    await replies.remove('r1');
    assert.deepEqual(
      net.calls.map((c) => [c.init.method, c.url, c.init.body]),
      [
        ['GET', 'https://notes.example/api/v1/trials/NCT1/replies?limit=50', undefined],
        ['GET', 'https://notes.example/api/v1/trials/NCT1/replies?limit=50&cursor=n', undefined],
        ['POST', 'https://notes.example/api/v1/trials/NCT1/replies/seen', '{"reply_ids":["r1","r2"]}'],
        ['DELETE', 'https://notes.example/api/v1/replies/r1', undefined],
      ],
    );
  });

  test('a list follows the cursor until the last page', async () => {
    const pages = {
      '': { notes: [{ id: 'a' }, { id: 'b' }], next: 'c1' },
      c1: { notes: [{ id: 'c' }], next: 'c+2/=' },
      'c+2/=': { notes: [{ id: 'd' }], next: null },
    };
    const net = network((url) => json(200, pages[new URL(url).searchParams.get('cursor') || '']));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    assert.deepEqual(await api.listNotes('NCT07085104'), { notes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }] });
    assert.equal(net.calls.length, 3);
    assert.equal(net.calls[2].url, 'https://notes.example/api/v1/trials/NCT07085104/notes?limit=100&cursor=c%2B2%2F%3D');
  });

  test('a cursor that repeats stops the walk with an error, not a loop', async () => {
    const net = network(() => json(200, { notes: [{ id: 'a' }], next: 'same' }));
    const api = createApi('https://notes.example', () => 't', net.fetchImpl);
    await assert.rejects(api.listNotes('NCT1'), ApiError);
    assert.equal(net.calls.length, 2);
  });
});
