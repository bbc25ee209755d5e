/**
 * Loading the configuration (src/config/load.ts): the original tool's file verbatim, comments and unknown keys,
 * errors that name the key, the embedded default, and environment and flags over the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfigText, resolveConfig } from '../../src/config/load.js';
import { describeConfigWarning } from '../../src/config/warnings.js';
import { routerFor } from '../../src/gateway/router.js';

/** The original tool's README example, verbatim, trailing comma included. */
const SEED_EXAMPLE = `{
  "openai_api_key": "sk-your-kimi-api-key",
  "openai_base_url": "https://api.moonshot.cn/v1",
  "model_mapping": {
    "gemini-2.5-pro": "kimi-k2-0711-preview",
    "gemini-2.5-flash": "moonshot-v1-auto",
  },
  "default_openai_model": "kimi-k2-0711-preview",
  "server": {
    "host": "0.0.0.0",
    "port": 8000,
    "log_level": "info"
  },
  "logging": {
    "enable_detailed_logs": true,
    "enable_access_logs": true,
    "log_directory": "logs"
  }
}`;

function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gp-config-')), 'config.json');
  writeFileSync(path, text);
  return path;
}

describe('config', () => {
  it('accepts the original tool README example verbatim (trailing comma)', () => {
    const { config, warnings } = parseConfigText(SEED_EXAMPLE, 'config.json');
    assert.equal(config.openai_base_url, 'https://api.moonshot.cn/v1');
    assert.equal(config.model_mapping['gemini-2.5-flash'], 'moonshot-v1-auto');
    assert.equal(config.logging.enable_detailed_logs, true);
    assert.deepEqual(warnings, []);
  });

  it('refuses 0.0.0.0 without client keys, names the key and the way out', () => {
    const path = writeConfig(SEED_EXAMPLE);
    assert.throws(
      () => resolveConfig({ configPath: path }, {}),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /server\.host/);
        assert.match(error.message, /allow_unauthenticated/);
        return true;
      },
    );
    const resolved = resolveConfig(
      { configPath: writeConfig(SEED_EXAMPLE.replace('"logging"', '"allow_unauthenticated": true, "logging"')) },
      {},
    );
    assert.equal(resolved.host, '0.0.0.0');
    const withKeys = resolveConfig(
      {
        configPath: writeConfig(SEED_EXAMPLE.replace('"logging"', '"client_api_keys": ["client-key-123"], "logging"')),
      },
      {},
    );
    assert.deepEqual(withKeys.clientApiKeys, ['client-key-123']);
    assert.equal(resolveConfig({ configPath: path, host: '127.0.0.1' }, {}).host, '127.0.0.1');
  });

  it('accepts comments, warns on unknown keys (the seed retry block) without failing', () => {
    const { warnings } = parseConfigText(
      '{\n // comment\n "retry": {"max": 3}, /* block */ "server": {"port": 9000, "workers": 2}\n}',
      'c.json',
    );
    assert.deepEqual(
      warnings.map((warning) => [warning.kind, warning.field]),
      [
        ['unknown-key', 'retry'],
        ['unknown-key', 'server.workers'],
      ],
    );
    assert.deepEqual(warnings.map(describeConfigWarning), [
      'c.json: unknown key "retry" ignored',
      'c.json: unknown key "server.workers" ignored',
    ]);
  });

  it('warns as data: the kind and the key concerned, with the sentence for the log', () => {
    const open = resolveConfig(
      {
        configPath: writeConfig(
          '{"provider": "kimi", "server": {"host": "0.0.0.0"}, "allow_unauthenticated": true, "upstreams": {"backup": {"provider": "deepseek"}}}',
        ),
      },
      {},
    );
    assert.deepEqual(
      open.warnings.map((warning) => [warning.kind, warning.field]),
      [
        ['host-guard', 'allowed_hosts'],
        ['missing-api-key', 'openai_api_key'],
        ['missing-api-key', 'upstreams.backup.api_key'],
      ],
    );
    assert.match(
      describeConfigWarning(open.warnings[1] ?? assert.fail()),
      /upstream "default" \(Moonshot Kimi\) has no API key/,
    );
    const unmapped = resolveConfig(
      { configPath: writeConfig('{"provider": "generic", "openai_base_url": "http://127.0.0.1:9/v1"}') },
      {},
    );
    assert.deepEqual(
      unmapped.warnings.map((warning) => [warning.kind, warning.field]),
      [['no-model-route', 'model_mapping']],
    );
  });

  it('names the key and the problem on invalid values', () => {
    assert.throws(() => parseConfigText('{"server": {"port": "eighty"}}', 'c.json'), /server\.port/);
    assert.throws(() => parseConfigText('{"openai_base_url": "not a url"}', 'c.json'), /openai_base_url/);
    assert.throws(() => parseConfigText('{"provider": "nope"}', 'c.json'), /provider: must be one of/);
    assert.throws(() => parseConfigText('{"server": {', 'c.json'), /invalid JSON at line 1/);
  });

  it('embedded default: loopback 8000, local Ollama, one default model', () => {
    const resolved = resolveConfig({}, {});
    assert.equal(resolved.embeddedDefault, true);
    assert.equal(resolved.host, '127.0.0.1');
    assert.equal(resolved.port, 8000);
    assert.equal(resolved.upstream.baseUrl, 'http://127.0.0.1:11434/v1');
    assert.ok(routerFor(resolved.routing).plan('gemini-3-flash-preview') !== undefined);
  });

  it('environment fills what the file does not say; the file wins over the environment; flags win over both', () => {
    const env = {
      OPENAI_API_KEY: 'sk-env',
      OPENAI_BASE_URL: 'http://env.example/v1',
      GEMINI_PROXY_CONFIG: writeConfig('{"openai_base_url": "http://file.example/v1"}'),
    };
    const resolved = resolveConfig({}, env);
    assert.equal(resolved.upstream.baseUrl, 'http://file.example/v1');
    assert.equal(resolved.upstream.apiKey, 'sk-env');
    assert.equal(
      resolveConfig({ port: 1234, baseUrl: 'http://flag.example/v1' }, env).upstream.baseUrl,
      'http://flag.example/v1',
    );
    const keyOnly = resolveConfig({}, { OPENAI_API_KEY: 'sk-env' });
    assert.equal(keyOnly.upstream.baseUrl, 'https://api.openai.com/v1');
    assert.equal(keyOnly.embeddedDefault, false);
  });
});
