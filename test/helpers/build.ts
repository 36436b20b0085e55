import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD = fileURLToPath(new URL('../../scripts/build.sh', import.meta.url));
let built = false;

/**
 * Brings dist/ up to date with the sources (scripts/build.sh --if-stale: a
 * few milliseconds when nothing changed). `bin/tresor` would rebuild a stale
 * dist/ by itself; doing it here first, once per test process, keeps a build
 * out of the timeouts of the spawns that follow, so every test that starts
 * `bin/tresor` runs the code under change.
 */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(BUILD, ['--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  built = true;
}
