/**
 * Gemini model name → ordered upstream targets (src/gateway/router.ts): `routes` and the original `model_mapping` in
 * one resolution order ([R-MAP-2]) — an exact model_mapping key, then a route (exact, then the most specific pattern),
 * then a model_mapping pattern, then the default model on the default upstream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router, routerFor, type RoutePlan, type RoutingConfig } from '../../src/gateway/router.js';

const ROUTING: RoutingConfig = {
  routes: {
    'gemini-2.5-pro': [
      { upstream: 'kimi', model: 'kimi-k2.5' },
      { upstream: 'deepseek', model: 'deepseek-v4-pro' },
    ],
    'gemini-*-flash*': [{ upstream: 'groq', model: 'qwen/qwen3-32b' }],
    'gemini-*-flash-lite*': [{ upstream: 'local', model: 'qwen3:8b' }],
    'models/gemini-exact-prefixed': [{ upstream: 'kimi', model: 'p' }],
  },
  modelMapping: {
    'gemini-3-flash-preview': 'mapped-exact',
    'gemini-*-pro*': 'mapped-pattern',
  },
  defaultModel: 'fallback-model',
  defaultUpstream: 'default',
};

const ROWS: Array<[name: string, expected: RoutePlan | undefined]> = [
  [
    'gemini-2.5-pro',
    {
      matchedBy: 'exact',
      targets: [
        { upstream: 'kimi', model: 'kimi-k2.5' },
        { upstream: 'deepseek', model: 'deepseek-v4-pro' },
      ],
    },
  ],
  // An exact model_mapping key beats a route pattern that also matches.
  ['gemini-3-flash-preview', { matchedBy: 'exact', targets: [{ upstream: 'default', model: 'mapped-exact' }] }],
  // The most specific route pattern wins (more literal characters).
  ['gemini-3.1-flash-lite', { matchedBy: 'pattern', targets: [{ upstream: 'local', model: 'qwen3:8b' }] }],
  ['gemini-3.5-flash', { matchedBy: 'pattern', targets: [{ upstream: 'groq', model: 'qwen/qwen3-32b' }] }],
  // A route key written with the models/ prefix matches the bare name.
  ['gemini-exact-prefixed', { matchedBy: 'exact', targets: [{ upstream: 'kimi', model: 'p' }] }],
  // No route: a model_mapping pattern on the default upstream, then the default model.
  ['gemini-3-pro-preview', { matchedBy: 'pattern', targets: [{ upstream: 'default', model: 'mapped-pattern' }] }],
  ['my-own-model', { matchedBy: 'default', targets: [{ upstream: 'default', model: 'fallback-model' }] }],
];

describe('router', () => {
  const router = new Router(ROUTING);
  for (const [name, expected] of ROWS) {
    it(`${name} → ${expected?.targets.map((target) => `${target.upstream}/${target.model}`).join(', ') ?? 'none'}`, () =>
      assert.deepEqual(router.plan(name), expected));
  }

  it('a route pattern beats the default model; without routes, mapping or default nothing resolves', () => {
    const routesOnly = new Router({
      routes: { 'gemini-*': [{ upstream: 'a', model: 'm' }] },
      modelMapping: {},
      defaultModel: 'never',
      defaultUpstream: 'default',
    });
    assert.deepEqual(routesOnly.plan('gemini-anything'), {
      matchedBy: 'pattern',
      targets: [{ upstream: 'a', model: 'm' }],
    });
    assert.equal(routesOnly.plan('other')?.targets[0]?.model, 'never');
    const empty = new Router({ routes: {}, modelMapping: {}, defaultModel: undefined, defaultUpstream: 'default' });
    assert.equal(empty.isEmpty(), true);
    assert.equal(empty.plan('gemini-2.5-pro'), undefined);
    assert.equal(routesOnly.isEmpty(), false);
  });

  it('lists the exact names of both tables and the Gemini CLI names that resolve, once each', () => {
    const names = new Router({
      routes: {
        'gemini-2.5-pro': [{ upstream: 'a', model: 'm' }],
        'gemini-*-flash-lite': [{ upstream: 'a', model: 's' }],
      },
      modelMapping: { 'my-alias': 'x', 'gemini-2.5-pro': 'y' },
      defaultModel: undefined,
      defaultUpstream: 'default',
    }).listedNames();
    assert.equal(new Set(names).size, names.length, 'no name twice');
    for (const name of ['gemini-2.5-pro', 'my-alias', 'gemini-3.1-flash-lite', 'gemini-2.5-flash-lite'])
      assert.ok(names.includes(name), name);
    assert.ok(!names.includes('gemini-3-pro-preview'), 'a Gemini CLI name that does not resolve is not listed');
  });

  it('routerFor builds one router per routing object, and a new one for a reloaded config', () => {
    const first = routerFor(ROUTING);
    assert.equal(routerFor(ROUTING), first);
    const reloaded = { ...ROUTING, defaultModel: 'other' };
    assert.notEqual(routerFor(reloaded), first);
    assert.equal(routerFor(reloaded).plan('my-own-model')?.targets[0]?.model, 'other');
  });
});
