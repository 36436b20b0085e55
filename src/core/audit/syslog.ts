import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { badRequest } from '../errors.ts';
import type { AuditDevice } from './types.ts';

/** The system's syslog socket (a unix datagram socket). */
export const SYSLOG_SOCKET = '/dev/log';

/**
 * The syslog socket in use: /dev/log, or `TRESOR_SYSLOG_SOCKET` where the
 * daemon listens elsewhere (containers mounting the host's socket; tests).
 */
export function syslogSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRESOR_SYSLOG_SOCKET?.trim() || SYSLOG_SOCKET;
}

const FACILITIES = new Set([
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]);

export interface SyslogOptions {
  facility: string;
  tag: string;
}

/** `facility` (Vault's default AUTH) and `tag` (default "vault"). */
export function syslogOptions(options: Record<string, string>): SyslogOptions {
  const facility = (options.facility?.trim() || 'AUTH').toLowerCase();
  if (!FACILITIES.has(facility)) throw badRequest('unknown syslog facility: "facility" must be one of kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0 to local7');
  const tag = options.tag?.trim() || 'vault';
  if (!/^[\x21-\x7e]{1,48}$/.test(tag)) throw badRequest('"tag" must be 1 to 48 printable characters without spaces');
  return { facility, tag };
}

/** Refuses a syslog device on a system without a syslog socket (400 naming the socket). */
export function checkSyslogSocket(path = syslogSocketPath()): void {
  let isSocket = false;
  try {
    isSocket = statSync(path).isSocket();
  } catch {
    // absent
  }
  if (!isSocket) throw badRequest(`syslog audit device: the system's syslog socket ${path} does not exist or is not a socket (no syslog daemon is running)`);
}

/**
 * The `syslog` device: each entry becomes one syslog message (RFC 5424,
 * severity info, the configured facility and tag) sent to /dev/log. Node
 * cannot open unix datagram sockets, so the messages go through util-linux
 * `logger`, kept running and fed one entry per line; an entry counts as
 * recorded once the pipe has taken it, and a logger that has exited fails
 * the entry (it reports socket errors with --socket-errors=on and exits).
 */
export class SyslogDevice implements AuditDevice {
  private child: ChildProcess | undefined;

  constructor(
    private readonly opts: SyslogOptions,
    private readonly socketPath = syslogSocketPath(),
  ) {}

  private start(): ChildProcess {
    checkSyslogSocket(this.socketPath);
    const child = spawn(
      'logger',
      ['--socket', this.socketPath, '--socket-errors=on', '--rfc5424', '--size', '65536', '-t', this.opts.tag, '-p', `${this.opts.facility}.info`],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    const drop = () => {
      if (this.child === child) this.child = undefined;
    };
    child.on('exit', drop);
    child.on('error', drop);
    child.stdin!.on('error', drop);
    this.child = child;
    return child;
  }

  private write(line: string): Promise<void> {
    const child = this.child ?? this.start();
    return new Promise<void>((resolve, reject) => {
      if (!child.stdin || child.stdin.destroyed) {
        reject(new Error('syslog: logger is not running'));
        return;
      }
      child.stdin.write(line, (err) => (err ? reject(err) : resolve()));
    });
  }

  logRequest(line: string): Promise<void> {
    return this.write(line);
  }

  logResponse(line: string): Promise<void> {
    return this.write(line);
  }

  async reopen(): Promise<void> {
    await this.close();
    this.start();
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve();
      }, 2_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end();
    });
  }
}
