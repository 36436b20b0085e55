/**
 * Leveled logging. Every component takes the small `Logger` interface;
 * the server process builds one on pino (createServerLogger) in Vault's
 * formats: `json` (hclog's JSON keys: @level, @message, @timestamp) or
 * `standard` (`<time> [LEVEL] <message>`). Callers pass messages that never
 * contain secrets; this module does not try to scrub.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'standard';

const LEVELS: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** The server's logger: its level can change at run time (SIGHUP). */
export interface ServerLogger extends Logger {
  trace(msg: string): void;
  setLevel(level: LogLevel): void;
  readonly level: LogLevel;
  /** Writes out anything buffered (before exit). */
  flush(): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = LEVELS[level] ?? LEVELS.info;
  const at = (lvl: LogLevel) => (msg: string) => {
    if (LEVELS[lvl] >= min) write(standardLine(lvl, msg, new Date()));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function standardLine(level: string, msg: string, time: Date): string {
  return `${time.toISOString()} [${level.toUpperCase()}] ${msg}\n`;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface ServerLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** `log_file`: a file, or a directory (then tresor.log inside it). Written besides stderr. */
  file?: string;
  /** Default stderr (fd 2). */
  stderr?: NodeJS.WritableStream;
}

/** The file `log_file` names: a directory (existing, or written with a trailing slash) means tresor.log inside it. */
export function logFilePath(file: string): string {
  const isDir = file.endsWith('/') || (fs.existsSync(file) && fs.statSync(file).isDirectory());
  return isDir ? path.join(file, 'tresor.log') : file;
}

/**
 * A pino logger writing synchronously (no line is lost when the process
 * exits right after logging) to stderr and, with `file`, to that file.
 */
export function createServerLogger(opts: ServerLoggerOptions): ServerLogger {
  const streams: pino.StreamEntry[] = [];
  const sinks: Array<{ flushSync?: () => void }> = [];
  const toStandard = (target: NodeJS.WritableStream | pino.DestinationStream) =>
    new Writable({
      write(chunk, _enc, done) {
        const text = chunk.toString();
        let out = '';
        for (const line of text.split('\n')) {
          if (!line) continue;
          try {
            const e = JSON.parse(line) as Record<string, string>;
            out += standardLine(e['@level'], e['@message'], new Date(e['@timestamp']));
          } catch {
            out += `${line}\n`;
          }
        }
        target.write(out);
        done();
      },
    });
  const addTarget = (target: pino.DestinationStream & { flushSync?: () => void }) => {
    sinks.push(target);
    streams.push({ level: 'trace', stream: opts.format === 'standard' ? toStandard(target) : target });
  };
  addTarget((opts.stderr as pino.DestinationStream) ?? pino.destination({ dest: 2, sync: true }));
  if (opts.file) {
    const file = logFilePath(opts.file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    addTarget(pino.destination({ dest: file, sync: true, mkdir: true, append: true }));
  }
  const log = pino(
    {
      level: opts.level,
      base: null,
      messageKey: '@message',
      timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ '@level': label }) },
    },
    pino.multistream(streams),
  );
  let level = opts.level;
  return {
    trace: (msg) => log.trace(msg),
    debug: (msg) => log.debug(msg),
    info: (msg) => log.info(msg),
    warn: (msg) => log.warn(msg),
    error: (msg) => log.error(msg),
    setLevel(next) {
      level = next;
      log.level = next;
    },
    get level() {
      return level;
    },
    flush() {
      for (const s of sinks) s.flushSync?.();
    },
  };
}
