/**
 * Terminal and stream I/O for commands, behind an interface so module tests
 * can drive commands with strings instead of a real terminal.
 */

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of stdin as text. */
  readStdin(): Promise<string>;
  /**
   * Asks for a secret: on a TTY the prompt goes to stderr and typing is not
   * echoed; otherwise one line is read from stdin. Trailing newline removed.
   */
  promptSecret(prompt: string): Promise<string>;
  /** Whether stdin is a terminal (a prompt would wait for typing). */
  isTerminal?(): boolean;
}

/** Interrupted by Ctrl-C at a hidden prompt: exit like a shell does (130). */
export class PromptInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'PromptInterrupted';
  }
}

/** The process-backed implementation used by `bin/tresor`. */
export function processIO(): CliIO {
  let stdinText: Promise<string> | undefined;
  const readStdin = () => (stdinText ??= readAll(process.stdin));
  return {
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin,
    async promptSecret(prompt) {
      if (process.stdin.isTTY) return readHidden(prompt);
      return readLine(process.stdin);
    },
    isTerminal: () => Boolean(process.stdin.isTTY),
  };
}

/** The first line of `text`, without its line ending. */
export function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** Reads up to the first newline (or end of input) and stops, so an open pipe does not block. */
function readLine(stream: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', done);
      // Nothing reads stdin after a prompt; closing it lets the process exit while the writer keeps its end open.
      stream.destroy();
      resolve(firstLine(text));
    };
    const onData = (c: Buffer | string) => {
      text += c.toString();
      if (text.includes('\n')) done();
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', reject);
  });
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

/** Raw-mode read so the typed secret is never echoed; handles backspace and Ctrl-C/Ctrl-D. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new PromptInterrupted());
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
