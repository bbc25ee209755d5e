/**
 * The deployment kit stays consistent with the code: the example config loads with the proxy's own loader, the
 * Dockerfile copies files that exist and runs as non-root with a health check on /health, the nginx site does not
 * buffer SSE, and the systemd unit reloads with SIGHUP.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';

const read = (path: string): string => readFileSync(join('deploy', path), 'utf8');

describe('deploy kit', () => {
  it('deploy/config.example.json is a valid config (no unknown keys) for a non-loopback listener', () => {
    const directory = mkdtempSync(join(tmpdir(), 'gp-deploy-'));
    const path = join(directory, 'config.json');
    writeFileSync(path, read('config.example.json'));
    const config = resolveConfig({ configPath: path }, {});
    assert.deepEqual(config.warnings, []);
    assert.equal(config.host, '0.0.0.0');
    assert.ok(config.clientApiKeys.length > 0 && config.operator.adminApiKey !== undefined);
    assert.equal(config.operator.usage.database, '/data/usage.sqlite3');
  });

  it('Dockerfile: multi-stage, non-root, health check on /health, copies paths that exist', () => {
    const dockerfile = read('Dockerfile');
    assert.equal(dockerfile.match(/^FROM /gm)?.length, 2);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n.*GEMINI_PROXY_HEALTH_URL/m);
    assert.match(dockerfile, /GEMINI_PROXY_HEALTH_URL=http:\/\/127\.0\.0\.1:8000\/health/);
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (match[1] ?? '').split(' ')) assert.ok(existsSync(source), `COPY source ${source} exists`);
    }
    for (const match of dockerfile.matchAll(/^COPY --from=build \/app\/(\S+) /gm)) {
      const source = match[1] ?? '';
      assert.ok(
        source.startsWith('dist/') || source === 'node_modules' || existsSync(source),
        `copied ${source} exists in the build`,
      );
    }
    assert.match(read('compose.yaml'), /dockerfile: deploy\/Dockerfile/);
  });

  it('nginx site: no buffering, long read timeout; systemd unit: SIGHUP reload, non-root; logrotate: copytruncate', () => {
    const nginx = read('nginx/gemini-proxy.conf');
    assert.match(nginx, /^\s+proxy_buffering off;$/m);
    assert.match(nginx, /^\s+proxy_read_timeout 3600s;$/m);
    assert.match(nginx, /^\s+proxy_http_version 1\.1;$/m);
    const unit = read('systemd/gemini-proxy.service');
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^User=gemini-proxy$/m);
    assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/gemini-proxy\/dist\/src\/cli\.js --config /m);
    assert.match(read('logrotate/gemini-proxy'), /^\s+copytruncate$/m);
  });
});
