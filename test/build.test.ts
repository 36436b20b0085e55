/**
 * bin/tresor runs compiled JavaScript (dist/), built by scripts/build.sh. These
 * tests run the real bin/tresor, build.sh and tsconfig files in a scratch
 * copy of the project whose "CLI" is two tiny modules, so each build takes
 * seconds: a clone without dist/ builds on first use, an edited source is
 * rebuilt before it runs, parallel starts build once and all run the new
 * code, a build that fails runs nothing, and without TypeScript the user is
 * told what to run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './helpers/server.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 110_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
  });
}

describe('bin/tresor and scripts/build.sh', () => {
  let dir: string;
  let bin: string;

  /** Writes the module holding the CLI's one value: newer than the last build, which started before it. */
  const writeSource = (text: string) => fs.writeFileSync(path.join(dir, 'src/cli/value.ts'), text);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-build-'));
    for (const f of ['bin/tresor', 'scripts/build.sh', 'tsconfig.json', 'tsconfig.build.json']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
      fs.chmodSync(path.join(dir, f), fs.statSync(path.join(ROOT, f)).mode);
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    fs.mkdirSync(path.join(dir, 'src/cli'), { recursive: true });
    // A relative ".ts" import, as in the real sources: the build must rewrite it to ".js".
    fs.writeFileSync(path.join(dir, 'src/cli/main.ts'), "import { value } from './value.ts';\nprocess.stdout.write(`${value} ${process.argv.slice(2).join(' ')}\\n`);\n");
    writeSource("export const value: string = 'one';\n");
    bin = path.join(dir, 'bin/tresor');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds a missing dist/ on first use and runs the compiled code, with nothing else on stdout or stderr', async () => {
    const res = await run(bin, ['status']);
    assert.deepEqual(res, { code: 0, stdout: 'one status\n', stderr: '' });
    assert.ok(fs.existsSync(path.join(dir, 'dist/src/cli/main.js')));
    assert.match(fs.readFileSync(path.join(dir, 'dist/src/cli/main.js'), 'utf8'), /from ["']\.\/value\.js["']/);
  });

  it('rebuilds when a source is newer than the last build, and leaves a fresh build alone', async () => {
    writeSource("export const value: string = 'two';\n");
    assert.equal((await run(bin)).stdout, 'two \n');
    const built = fs.statSync(path.join(dir, 'dist/.built')).mtimeMs;
    assert.equal((await run(bin)).stdout, 'two \n');
    assert.equal(fs.statSync(path.join(dir, 'dist/.built')).mtimeMs, built, 'no second build');
  });

  it('parallel starts wait for one build under the lock, and every one runs the new code', async () => {
    writeSource("export const value: string = 'three';\n");
    const results = await Promise.all([run(bin, ['a']), run(bin, ['b']), run(bin, ['c'])]);
    assert.deepEqual(
      results.map((r) => [r.code, r.stdout, r.stderr]),
      [
        [0, 'three a\n', ''],
        [0, 'three b\n', ''],
        [0, 'three c\n', ''],
      ],
    );
  });

  it('runs nothing when the build fails, and says so', async () => {
    writeSource("export const value: string = 'four'\nexport const = ;\n");
    const res = await run(bin);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '', 'the old build must not run');
    assert.match(res.stderr, /the build failed/);
    // Fixed again: the next start builds and runs it.
    writeSource("export const value: string = 'five';\n");
    assert.equal((await run(bin)).stdout, 'five \n');
  });

  it('without TypeScript, a stale dist/ is not run: one line says how to build it', async () => {
    fs.unlinkSync(path.join(dir, 'node_modules'));
    writeSource("export const value: string = 'six';\n");
    const res = await run(bin);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^tresor: dist\/ is missing or older than src\/.*run \.\/scripts\/install\.sh/);
    assert.equal(res.stderr.trim().split('\n').length, 1);
  });
});
