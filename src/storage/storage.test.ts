import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { TresorError } from '../core/errors.ts';
import { runBackendConformance } from './conformance.ts';
import { crashValue } from './crash-writer.ts';
import { DATABASE_FILE, FileBackend } from './file.ts';
import { createStorage, InmemBackend } from './index.ts';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-storage-'));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

runBackendConformance('inmem', async () => new InmemBackend());
runBackendConformance('file', async () => new FileBackend({ path: path.join(tempDir(), 'data') }));

describe('file storage durability', () => {
  it('data survives closing and reopening the backend', async () => {
    const dir = tempDir();
    const first = new FileBackend({ path: dir });
    await first.put('a/b', Buffer.from('persisted'));
    await first.put('gone', Buffer.from('x'));
    await first.delete('gone');
    await first.close();

    const second = new FileBackend({ path: dir });
    assert.deepEqual(await second.get('a/b'), Buffer.from('persisted'));
    assert.equal(await second.get('gone'), undefined);
    assert.deepEqual(await second.list(''), ['a/']);
    await second.close();
  });

  it('creates the data directory 0700 and the database file 0600', async () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const backend = new FileBackend({ path: dir });
    await backend.put('k', Buffer.from('v'));
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, DATABASE_FILE)).mode & 0o777, 0o600);
    await backend.close();
  });

  it('every put acknowledged before kill -9 is present after reopening', async () => {
    const dir = tempDir();
    const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
    const total = 1_000_000;
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(total)], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: number[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) acked.push(Number(line));
      if (acked.length >= 300 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])));
    assert.equal(signal, 'SIGKILL', `writer exited on its own (code ${code})`);
    assert.ok(acked.length >= 300 && acked.length < total);

    const reopened = new FileBackend({ path: dir });
    for (const i of acked) assert.deepEqual(await reopened.get(`crash/${i}`), crashValue(i), `key ${i}`);
    await reopened.close();
  });
});

describe('createStorage', () => {
  it('builds file and inmem backends', async () => {
    const file = createStorage('file', { path: tempDir() });
    assert.ok(file instanceof FileBackend);
    await file.close();
    assert.ok(createStorage('inmem', {}) instanceof InmemBackend);
  });

  it('rejects an unknown type with a 400 naming the supported types', () => {
    assert.throws(() => createStorage('consul', {}), (err: unknown) =>
      err instanceof TresorError && err.status === 400 && /unknown storage type "consul".*file, inmem/.test(err.message));
  });

  it('rejects file storage without a path', () => {
    assert.throws(() => createStorage('file', {}), (err: unknown) =>
      err instanceof TresorError && err.status === 400 && /path/.test(err.message));
  });
});

describe('file backend group commit', () => {
  it('a bad write is refused on its own and does not fail the writes batched with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-group-'));
    const backend = new FileBackend({ path: dir });
    try {
      const results = await Promise.allSettled([
        backend.put('a', Buffer.from('1')),
        backend.put('b', 'not a buffer' as unknown as Buffer),
        backend.put('c', Buffer.from('3')),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal((await backend.get('a'))!.toString(), '1');
      assert.equal(await backend.get('b'), undefined);
      assert.equal((await backend.get('c'))!.toString(), '3');
    } finally {
      await backend.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
