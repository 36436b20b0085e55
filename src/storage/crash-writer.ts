/**
 * Child process for the file backend's crash test: puts keys `crash/<i>`
 * one by one and prints `<i>` on its own line only after each put resolved,
 * until it is killed. Usage: crash-writer.ts <dir> <count>
 */
import { fileURLToPath } from 'node:url';
import { FileBackend } from './file.ts';

/** The value the writer stores for key number `i` (the test recomputes it). */
export function crashValue(i: number): Buffer {
  return Buffer.from(`value-${i}-${'x'.repeat(i % 97)}`);
}

async function main(dir: string, count: number): Promise<void> {
  const backend = new FileBackend({ path: dir });
  for (let i = 0; i < count; i++) {
    await backend.put(`crash/${i}`, crashValue(i));
    process.stdout.write(`${i}\n`);
  }
  await backend.close();
}

// Run only as a script, so the test can import crashValue without writing.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.argv[2], Number(process.argv[3]));
}
