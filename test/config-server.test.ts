/**
 * `tresor server -config=FILE` with a broken configuration: the process must
 * exit non-zero, naming the file, the line and the offending key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/server.ts';

const LISTENER = `listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
`;

/** Each case: config text, the line of the mistake, and what stderr must name. */
const CASES: { name: string; hcl: string; line: number; names: RegExp }[] = [
  {
    name: 'an unknown top-level key',
    hcl: `storage "file" { path = "{{DATA}}" }\n${LISTENER}colour = "blue"\n`,
    line: 6,
    names: /colour/,
  },
  {
    name: 'an unknown stanza',
    hcl: `storage "file" { path = "{{DATA}}" }\n${LISTENER}telemetry_backend "x" {\n  a = 1\n}\n`,
    line: 6,
    names: /telemetry_backend/,
  },
  {
    name: 'an unknown key inside the listener',
    hcl: `storage "file" { path = "{{DATA}}" }\nlistener "tcp" {\n  address     = "127.0.0.1:0"\n  tls_disable = true\n  tls_colour  = "red"\n}\n`,
    line: 5,
    names: /tls_colour/,
  },
  {
    name: 'a value of the wrong type',
    hcl: `storage "file" { path = "{{DATA}}" }\nlistener "tcp" {\n  address     = "127.0.0.1:0"\n  tls_disable = true\n  max_request_size = "lots"\n}\n`,
    line: 5,
    names: /max_request_size/,
  },
  {
    name: 'storage "file" without path',
    hcl: `${LISTENER}storage "file" {\n}\n`,
    line: 5,
    names: /\bpath\b/,
  },
];

describe('server start-up with a broken config file', { concurrency: true }, () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-config-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    it(`${c.name}: exits non-zero naming the file, the line and the key`, async () => {
      const file = path.join(dir, `${c.name.replace(/\W+/g, '-')}.hcl`);
      fs.writeFileSync(file, c.hcl.replaceAll('{{DATA}}', path.join(dir, 'data')));
      const res = await runCli(['server', `-config=${file}`]);
      assert.notEqual(res.code, 0, res.stdout);
      // Reported as "FILE:LINE: message".
      assert.ok(res.stderr.includes(`${file}:${c.line}`), res.stderr);
      assert.match(res.stderr, c.names, res.stderr);
      assert.doesNotMatch(res.stdout, /server started/);
    });
  }
});
