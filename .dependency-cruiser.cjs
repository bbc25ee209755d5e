/**
 * The layering of src/, checked by `npm run lint:layers` (run by `npm test`). A folder may import only the folders
 * listed for it; everything else, and in particular anything above it, is refused, so no folder cycle can form.
 * The same table, for readers, is in docs/architecture.md (test/docs/architecture.test.ts holds the code to it too).
 * The order, bottom to top:
 *
 *   leaves     errors.ts, exhaustive.ts, tokenizer.ts: no import from src/
 *   providers  typed provider data
 *   translate  pure Gemini ⇄ OpenAI functions       upstream  HTTP client, SSE decoding, upstream errors
 *   config     schema, loading, plain config data (never a live object of a higher layer)
 *   gateway    the call to the upstream: router, pool, breakers, retry policy, attempt and stream pump, limits
 *   shared     state that several instances may share: caches, Redis
 *   search     Gemini's googleSearch: the proxy's own search backends, native search mappings, Kimi's search loop
 *   server     Fastify core, routes, request orchestration
 *   quick-start.ts  the Gemini CLI setup (environment, settings, threshold): gateway, config, providers
 *   operator   dashboard, metrics, usage store, hot reload, init (observes the server)
 *   top        app.ts (composition root), cli.ts, launcher.ts: may import anything
 */
const LEAVES = ['errors', 'exhaustive', 'tokenizer'];
const MAY_IMPORT = {
  providers: [],
  translate: ['providers'],
  upstream: ['providers'],
  config: ['providers'],
  gateway: ['translate', 'config', 'upstream', 'providers'],
  shared: ['gateway', 'config'],
  search: ['gateway', 'config', 'upstream', 'translate', 'providers'],
  server: ['search', 'shared', 'gateway', 'config', 'upstream', 'translate', 'providers'],
  operator: ['server', 'quick-start.ts', 'search', 'shared', 'gateway', 'config', 'upstream', 'translate', 'providers'],
};
const leafPath = `^src/(${LEAVES.join('|')})\\.ts$`;

const layerRules = Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
  name: `layer-${folder}`,
  severity: 'error',
  comment: `src/${folder}/ may import only ${allowed.length === 0 ? 'the leaf modules' : `${allowed.join(', ')} and the leaf modules`} (see .dependency-cruiser.cjs)`,
  from: { path: `^src/${folder}/` },
  // A name ending in .ts is one module at the root of src/ (quick-start.ts), any other a folder.
  to: {
    path: '^src/',
    pathNot: [
      `^src/${folder}/`,
      leafPath,
      ...allowed.map((name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`)),
    ],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'leaves-import-nothing',
      severity: 'error',
      comment: `${LEAVES.join(', ')} are imported by every layer, so they import nothing from src/`,
      from: { path: leafPath },
      to: { path: '^src/', pathNot: leafPath },
    },
    {
      name: 'no-test-in-src',
      severity: 'error',
      comment: 'the product never imports test code',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules that import each other (also inside one folder) cannot be understood or tested apart',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'an import that points at no file',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type from a higher layer couples as much as a value does.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
