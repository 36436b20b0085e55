/**
 * A small leveled logger writing one line per event to stderr. Callers pass
 * messages that never contain secrets; this module does not try to scrub.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = LEVELS[level] ?? LEVELS.info;
  const at = (lvl: LogLevel) => (msg: string) => {
    if (LEVELS[lvl] >= min) write(`${new Date().toISOString()} [${lvl.toUpperCase()}] ${msg}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
