// Builds the widget into notes_service/static/ (`npm run build`; test/size.test.js builds the
// same in memory):
//   widget.js          the loader a page's tag loads (classic script: it reads its own tag)
//   widget/app-*.js    the widget's ES modules, imported by the loader: the first load
//   widget/dialogs-*.js  the dialogs, imported when the reader first opens one
//   widget/<code>-*.js   each language's catalog: its first-draw words, and the rest
//   widget/parts.json  which files are the first load, which load on demand, and each language's
//                      first-draw catalog (the first draw waits for one: bench/run.py counts the largest)
// The modules' names carry a content hash, so the service serves them as immutable.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const STATIC = join(HERE, '..', 'notes_service', 'static');
const PARTS = join(STATIC, 'widget');
// UTF-8 out: the catalogs' Arabic and Spanish as written, not six-byte \u escapes (modules are UTF-8).
const COMMON = { bundle: true, minify: true, target: 'es2022', charset: 'utf8', logLevel: 'warning' };

/**
 * Build the loader and the modules; with write false, nothing touches the disk.
 * Returns {files: [{path, contents}], firstLoad: [path], onDemand: [path]}.
 */
export async function buildWidget({ write = true } = {}) {
  const modules = await build({
    ...COMMON,
    entryPoints: { app: join(HERE, 'src', 'app.js') },
    splitting: true,
    format: 'esm',
    outdir: PARTS,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    write: false,
  });
  const outputs = modules.metafile.outputs;
  const key = (file) => relative(process.cwd(), file);
  // The app's own output: every module import() loads is an entry point of the metafile too.
  const appSource = key(join(HERE, 'src', 'app.js'));
  const entry = modules.outputFiles.find((f) => outputs[key(f.path)]?.entryPoint === appSource);
  if (!entry) throw new Error(`no output for ${appSource}`);
  // The first load is the entry and what it imports statically; import() leaves the rest for later.
  const firstLoad = new Set();
  const visit = (path) => {
    if (firstLoad.has(path)) return;
    firstLoad.add(path);
    for (const dep of outputs[path].imports) if (dep.kind === 'import-statement') visit(dep.path);
  };
  visit(key(entry.path));
  // Each language's catalog is two modules (imported by i18n.js): the first-draw words
  // (src/catalogs/<code>.first.json), which the loader fetches beside the app, and the rest
  // (src/catalogs/<code>.json), fetched with the first on-demand module that has words.
  /** @type {Record<string, string>} */
  const catalogs = {};
  /** @type {Record<string, {first: string, rest: string}>} */
  const catalogParts = {};
  for (const f of modules.outputFiles) {
    const source = outputs[key(f.path)]?.entryPoint ?? '';
    const [, code, first] = /catalogs\/(\w+)(\.first)?\.json$/.exec(source) ?? [];
    if (!code) continue;
    catalogParts[code] ??= { first: '', rest: '' };
    catalogParts[code][first ? 'first' : 'rest'] = f.path;
    if (first) catalogs[code] = basename(f.path);
  }
  const loader = await build({
    ...COMMON,
    entryPoints: [join(HERE, 'src', 'main.js')],
    format: 'iife',
    outfile: join(STATIC, 'widget.js'),
    define: { WIDGET_APP: JSON.stringify(basename(entry.path)), WIDGET_CATALOGS: JSON.stringify(catalogs) },
    write: false,
  });
  const files = [...loader.outputFiles, ...modules.outputFiles];
  const inFirstLoad = (f) => firstLoad.has(key(f.path));
  const result = {
    files,
    firstLoad: [loader.outputFiles[0].path, ...modules.outputFiles.filter(inFirstLoad).map((f) => f.path)],
    onDemand: modules.outputFiles.filter((f) => !inFirstLoad(f)).map((f) => f.path),
    // The source files bundled into the first load (test/catalogs.test.js: their words are first-draw words).
    firstLoadSources: [...new Set([...firstLoad].flatMap((path) => Object.keys(outputs[path].inputs)))],
    catalogParts,
  };
  if (write) {
    // Earlier parts stay: a loader cached before this build (5 minutes) still finds its modules.
    mkdirSync(PARTS, { recursive: true });
    for (const f of modules.outputFiles) writeFileSync(f.path, f.contents);
    const name = (path) => relative(STATIC, path);
    const firstDraw = Object.fromEntries(Object.entries(catalogParts).map(([code, p]) => [code, name(p.first)]));
    const parts = { first_load: result.firstLoad.map(name), on_demand: result.onDemand.map(name), first_draw_catalogs: firstDraw };
    writeFileSync(join(PARTS, 'parts.json'), `${JSON.stringify(parts, null, 2)}\n`);
    writeFileSync(loader.outputFiles[0].path, loader.outputFiles[0].contents); // last: make's target
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { firstLoad, onDemand } = await buildWidget();
  console.log(`widget: first load ${firstLoad.map((p) => basename(p)).join(', ')}; on demand ${onDemand.map((p) => basename(p)).join(', ')}`);
}
