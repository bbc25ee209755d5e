/**
 * The config file schema (src/config/schema.ts): each block's defaults, the bounds that keep the proxy inside what
 * Gemini CLI tolerates, the shapes it refuses (naming the key), and the unknown-key table staying in step with the
 * schema so a key the schema knows is never reported as unknown, and an unknown one is never silently dropped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseConfigText } from '../../src/config/load.js';
import { KNOWN_KEYS, configSchema } from '../../src/config/schema.js';

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return inner instanceof z.ZodObject ? inner.shape : undefined;
}

/** Top-level keys whose value is an object with named keys (not a record such as routes or upstreams). */
const BLOCKS = Object.entries(configSchema.shape).flatMap(([key, schema]) => {
  const shape = objectShape(schema as z.ZodType);
  return shape === undefined ? [] : [{ key, keys: Object.keys(shape).sort() }];
});

function issuePaths(config: unknown): string[] {
  const result = configSchema.safeParse(config);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('config schema: defaults', () => {
  it('the walk finds the nested blocks', () => {
    const keys = BLOCKS.map((block) => block.key);
    for (const key of [
      'server',
      'logging',
      'timeouts',
      'retries',
      'circuit_breaker',
      'redis',
      'dashboard',
      'web_search',
    ])
      assert.ok(keys.includes(key), key);
  });

  it("an absent block equals an empty one: each block's written-out default matches its fields' defaults", () => {
    const absent = configSchema.parse({});
    const empty = configSchema.parse(Object.fromEntries(BLOCKS.map((block) => [block.key, {}])));
    for (const block of BLOCKS) {
      const key = block.key as keyof typeof absent;
      assert.deepEqual(absent[key], empty[key], `${block.key}: the default object differs from {} parsed`);
    }
  });

  it('the defaults a newcomer relies on', () => {
    const config = configSchema.parse({});
    assert.deepEqual(
      { host: config.server.host, port: config.server.port, base_path: config.server.base_path },
      { host: '127.0.0.1', port: 8000, base_path: '' },
    );
    assert.deepEqual(config.timeouts, {
      first_byte_commit_seconds: 45,
      heartbeat_seconds: 15,
      upstream_idle_seconds: 60,
      upstream_headers_seconds: 60,
      upstream_unary_seconds: 300,
      upstream_connect_seconds: 10,
    });
    assert.deepEqual(config.retries, { attempts_per_target: 2, base_delay_ms: 300, max_delay_seconds: 5 });
    assert.deepEqual(config.circuit_breaker, { failure_threshold: 5, cooldown_seconds: 30 });
    assert.equal(config.allow_unauthenticated, false);
    assert.deepEqual(config.allowed_origins, []);
    assert.equal(config.azure_api_version, '2024-10-21');
    assert.equal(config.logging.enable_detailed_logs, false);
  });
});

describe('config schema: values', () => {
  const accepted: Array<[string, unknown, (config: z.infer<typeof configSchema>) => unknown, unknown]> = [
    ['log_level is case-insensitive', { server: { log_level: 'WARNING' } }, (c) => c.server.log_level, 'warning'],
    [
      'base_path loses its trailing slashes',
      { server: { base_path: '/gemini//' } },
      (c) => c.server.base_path,
      '/gemini',
    ],
    ['port 0 picks a free port', { server: { port: 0 } }, (c) => c.server.port, 0],
    [
      'the first-byte commit may go up to 55 s',
      { timeouts: { first_byte_commit_seconds: 55 } },
      (c) => c.timeouts.first_byte_commit_seconds,
      55,
    ],
    [
      'a client key with its own limits',
      { client_api_keys: [{ key: 'client-key-1', name: 'ci', requests_per_minute: 5 }] },
      (c) => c.client_api_keys,
      [{ key: 'client-key-1', name: 'ci', requests_per_minute: 5 }],
    ],
    [
      'a named upstream gets the default Azure api-version',
      { upstreams: { 'kimi.main-1_b': { provider: 'kimi', api_keys: ['a', 'b'] } } },
      (c) => c.upstreams['kimi.main-1_b']?.azure_api_version,
      '2024-10-21',
    ],
    [
      'routes: ordered targets',
      {
        routes: {
          'gemini-*': [
            { upstream: 'a', model: 'm' },
            { upstream: 'b', model: 'n' },
          ],
        },
      },
      (c) => c.routes['gemini-*']?.map((target) => target.upstream),
      ['a', 'b'],
    ],
    [
      'rediss:// is a Redis URL',
      { redis_url: 'rediss://cache.example:6380/0' },
      (c) => c.redis_url,
      'rediss://cache.example:6380/0',
    ],
    [
      'an origin with a port',
      { allowed_origins: ['http://localhost:5173'] },
      (c) => c.allowed_origins,
      ['http://localhost:5173'],
    ],
    [
      'the shortest cooldown',
      { circuit_breaker: { cooldown_seconds: 0.01 } },
      (c) => c.circuit_breaker.cooldown_seconds,
      0.01,
    ],
  ];
  for (const [name, config, read, expected] of accepted) {
    it(`accepts: ${name}`, () => assert.deepEqual(read(configSchema.parse(config)), expected));
  }

  const refused: Array<[string, unknown, string]> = [
    ['a port above 65535', { server: { port: 65_536 } }, 'server.port'],
    ['an unknown log level', { server: { log_level: 'loud' } }, 'server.log_level'],
    ['a base_path without its leading slash', { server: { base_path: 'gemini' } }, 'server.base_path'],
    [
      'a first-byte commit at or past 56 s (Gemini CLI gives up on headers at 60 s, [R-TO-1])',
      { timeouts: { first_byte_commit_seconds: 56 } },
      'timeouts.first_byte_commit_seconds',
    ],
    ['a zero heartbeat', { timeouts: { heartbeat_seconds: 0 } }, 'timeouts.heartbeat_seconds'],
    [
      'a connect timeout over 120 s',
      { timeouts: { upstream_connect_seconds: 121 } },
      'timeouts.upstream_connect_seconds',
    ],
    ['a client key under 8 characters', { client_api_keys: ['short'] }, 'client_api_keys.0'],
    ['an unknown field on a client key', { client_api_keys: [{ key: 'client-key-1', rpm: 5 }] }, 'client_api_keys.0'],
    ['an upstream name with a space', { upstreams: { 'my upstream': { provider: 'kimi' } } }, 'upstreams.my upstream'],
    ['an unknown provider on an upstream', { upstreams: { a: { provider: 'nope' } } }, 'upstreams.a.provider'],
    ['an unknown key on an upstream', { upstreams: { a: { provider: 'kimi', apikey: 'x' } } }, 'upstreams.a'],
    [
      'an upstream connect timeout over 120 s',
      { upstreams: { a: { timeouts: { upstream_connect_seconds: 121 } } } },
      'upstreams.a.timeouts.upstream_connect_seconds',
    ],
    ['a route without targets', { routes: { 'gemini-*': [] } }, 'routes.gemini-*'],
    ['a route target with an extra key', { routes: { x: [{ upstream: 'a', model: 'm', weight: 2 }] } }, 'routes.x.0'],
    ['zero attempts per target', { retries: { attempts_per_target: 0 } }, 'retries.attempts_per_target'],
    ["the original tool's retry keys inside retries", { retries: { max: 3 } }, 'retries'],
    ['a zero cooldown', { circuit_breaker: { cooldown_seconds: 0 } }, 'circuit_breaker.cooldown_seconds'],
    ['negative limits', { limits: { requests_per_minute: -1 } }, 'limits.requests_per_minute'],
    ['a Redis URL with another scheme', { redis_url: 'http://cache.example' }, 'redis_url'],
    ['an unknown Redis failure mode', { redis: { rate_limit_failure: 'maybe' } }, 'redis.rate_limit_failure'],
    ['a cache TTL over 30 days', { response_cache: { ttl_seconds: 30 * 86_400 + 1 } }, 'response_cache.ttl_seconds'],
    ['an origin with a path', { allowed_origins: ['http://localhost:5173/'] }, 'allowed_origins.0'],
    ['an origin without a scheme', { allowed_origins: ['localhost:5173'] }, 'allowed_origins.0'],
    ['an admin key under 8 characters', { admin_api_key: 'short' }, 'admin_api_key'],
    [
      'a context window under 1024 tokens',
      { model_limits: { m: { context_window: 1000 } } },
      'model_limits.m.context_window',
    ],
    ['an unknown top-level provider', { provider: 'nope' }, 'provider'],
    ['a base URL that is not a URL', { openai_base_url: 'api.example.com' }, 'openai_base_url'],
  ];
  for (const [name, config, path] of refused) {
    it(`refuses ${name}, naming ${path}`, () =>
      assert.ok(issuePaths(config).includes(path), issuePaths(config).join(', ')));
  }
});

describe('config schema: unknown keys', () => {
  it('the unknown-key table lists exactly the keys of each block the schema does not make strict', () => {
    for (const block of BLOCKS) {
      const known = KNOWN_KEYS[block.key];
      if (known === undefined) continue;
      assert.deepEqual([...known].sort(), block.keys, block.key);
    }
    assert.deepEqual([...(KNOWN_KEYS[''] ?? [])].sort(), Object.keys(configSchema.shape).sort());
  });

  it('every block either refuses an unknown key or warns about it; none drops it silently', () => {
    for (const block of BLOCKS) {
      const text = JSON.stringify({ [block.key]: { not_a_key: 1 } });
      let warnings: Array<[string, string]>;
      try {
        warnings = parseConfigText(text, 'c.json').warnings.map((warning) => [warning.kind, warning.field]);
      } catch (error) {
        assert.match(String(error), new RegExp(`${block.key}`), `${block.key}: refused without naming the block`);
        continue;
      }
      assert.deepEqual(warnings, [['unknown-key', `${block.key}.not_a_key`]], block.key);
    }
  });

  it('no known key is reported as unknown: a file spelling out every default loads without a warning', () => {
    const defaults = configSchema.parse({});
    const spelledOut = Object.fromEntries(Object.entries(defaults).filter(([key]) => KNOWN_KEYS[key] !== undefined));
    assert.ok(Object.keys(spelledOut).length >= 5);
    assert.deepEqual(parseConfigText(JSON.stringify(spelledOut), 'c.json').warnings, []);
  });
});
