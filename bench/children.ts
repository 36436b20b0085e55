import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts `node --import tsx bench/<script>` from the project root; stdout piped, stderr passed through. */
export function spawnBenchScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Resolves with the child's first stdout line (rejects if it exits first). */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve(buffered.slice(0, end));
    };
    const onExit = (code: number | null) => reject(new Error(`bench child exited with ${code} before writing a line`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Runs a bench child script that writes one JSON document as its first
 * stdout line and exits; returns the parsed document.
 */
export async function runJsonChild<T>(script: string, input: unknown, env?: NodeJS.ProcessEnv): Promise<T> {
  const child = spawnBenchScript(script, [JSON.stringify(input)], env);
  const exited = once(child, 'exit');
  const line = await firstLine(child);
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(line) as T;
}

export interface BareHttpServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * The ceiling server: bare `node:http` in its own process, answering every
 * request with 200 and `body` once the request body has been read.
 */
export async function startBareHttp(body: string): Promise<BareHttpServer> {
  const child = spawnBenchScript('./bare-http.ts', [body]);
  const { port } = JSON.parse(await firstLine(child)) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
