import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

import { build } from 'esbuild';

// The same options as `npm run build`, written to memory so the test needs no
// earlier build step and leaves the served file alone.
test('the built widget is at most 15 KiB gzipped', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.match(pkg.scripts.build, /--minify --format=iife --target=es2022/);
  const result = await build({
    entryPoints: [new URL('../src/main.js', import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    write: false,
  });
  const code = result.outputFiles[0].contents;
  const gzipped = gzipSync(code).length;
  assert.ok(gzipped <= 15360, `widget.js is ${gzipped} bytes gzipped`);
  const text = Buffer.from(code).toString('utf8');
  // Strict host CSPs forbid these; the widget never needs them.
  assert.ok(!/\beval\(|new Function\(/.test(text), 'no eval');
  assert.ok(!/\.innerHTML\s*=/.test(text), 'no innerHTML assignment');
});
