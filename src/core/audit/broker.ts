/**
 * The audit broker: the table of enabled devices (persisted behind the
 * barrier at core/audit, loaded on unseal), each device's salt (at
 * core/audit-salt/<uuid>), and the fan-out of each request's entries to
 * every device. Fail closed: with at least one device enabled, an entry
 * that no device recorded is an error for the request.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { badRequest, TresorError } from '../errors.ts';
import type { Logger } from '../../logger.ts';
import { AuditSalt } from './hash.ts';
import { EntryFormatter, type AuditRecord, type AuditReply } from './format.ts';
import { FileDevice, fileMode } from './file.ts';
import { SocketDevice, socketOptions } from './socket.ts';
import { checkSyslogSocket, SyslogDevice, syslogOptions } from './syslog.ts';
import { formatOptions, type AuditDevice, type AuditEntry } from './types.ts';

export const AUDIT_TABLE_PATH = 'core/audit';
const SALT_PREFIX = 'core/audit-salt/';
export const AUDIT_TYPES = ['file', 'socket', 'syslog'] as const;

/** The barrier's key/value view (get/put/delete), all the broker needs. */
export interface AuditStorage {
  get(path: string): Promise<Buffer | undefined>;
  put(path: string, value: Buffer): Promise<void>;
  delete(path: string): Promise<void>;
}

interface Mounted {
  entry: AuditEntry;
  device: AuditDevice;
  salt: AuditSalt;
  formatter: EntryFormatter;
}

/** The 500 a request gets when no device could record its entry (Vault: "internal error"). */
export function auditFailed(which: 'request' | 'response'): TresorError {
  return new TresorError(500, 'internal error', [`no enabled audit device could record the ${which}`]);
}

export interface AuditBrokerOptions {
  logger: Logger;
  /** Directories an audit file may not be in (the storage and plugin directories). */
  forbiddenDirs?: string[];
}

export class AuditBroker {
  private mounted: Mounted[] = [];
  private storage: AuditStorage | undefined;
  /** Serialises enable/disable (table changes). */
  private tableLock: Promise<unknown> = Promise.resolve();
  private lastFailureLog = 0;

  constructor(private readonly opts: AuditBrokerOptions) {}

  /** Whether any device is enabled (requests are audited). */
  get active(): boolean {
    return this.mounted.length > 0;
  }

  /** Loads the table on unseal; a device that cannot open now stays enabled (and fails closed). */
  async load(storage: AuditStorage): Promise<void> {
    this.storage = storage;
    const raw = await storage.get(AUDIT_TABLE_PATH);
    const entries = raw ? (JSON.parse(raw.toString('utf8')) as { entries: AuditEntry[] }).entries : [];
    const mounted: Mounted[] = [];
    for (const entry of entries) {
      const salt = await this.saltFor(storage, entry.uuid);
      let device: AuditDevice;
      try {
        device = this.build(entry);
        await device.reopen();
      } catch (err) {
        device ??= brokenDevice((err as Error).message);
        this.opts.logger.error(`audit: device ${entry.path} (${entry.type}) cannot record entries: ${(err as Error).message}`);
      }
      mounted.push({ entry, device, salt, formatter: new EntryFormatter(salt, formatOptions(entry.options)) });
    }
    this.mounted = mounted;
  }

  /** On seal: flushes and closes every device. */
  async unload(): Promise<void> {
    const mounted = this.mounted;
    this.mounted = [];
    this.storage = undefined;
    await Promise.allSettled(mounted.map((m) => m.device.close()));
  }

  /** SIGHUP: every device reopens its file or socket (logrotate). A device that cannot stays enabled and fails closed. */
  async reopen(): Promise<void> {
    await Promise.all(
      this.mounted.map(async (m) => {
        try {
          await m.device.reopen();
        } catch (err) {
          this.opts.logger.error(`audit: reopening device ${m.entry.path} failed: ${(err as Error).message}`);
        }
      }),
    );
  }

  /** Clean shutdown: what is pending is written and files and sockets are closed. */
  flush(): Promise<void> {
    return this.unload();
  }

  list(): AuditEntry[] {
    return this.mounted.map((m) => m.entry);
  }

  /** sys/audit-hash: the input's HMAC under the device's salt. */
  hash(path: string, input: string): string {
    const m = this.mounted.find((d) => d.entry.path === normalisePath(path));
    if (!m) throw badRequest(`unknown audit backend ${normalisePath(path)}`);
    return m.salt.hash(input);
  }

  enable(req: { path: string; type: string; description: string; options: Record<string, string>; local: boolean }): Promise<void> {
    return this.exclusive(async () => {
      const storage = this.requireStorage();
      const path = normalisePath(req.path);
      if (path === '/') throw badRequest('backend path must be specified');
      if (this.mounted.some((m) => m.entry.path === path || m.entry.path.startsWith(path) || path.startsWith(m.entry.path))) {
        throw badRequest('path already in use');
      }
      if (!(AUDIT_TYPES as readonly string[]).includes(req.type)) throw badRequest(`unknown backend type: "${req.type.slice(0, 64)}"`);
      const entry: AuditEntry = {
        path,
        type: req.type,
        description: req.description,
        options: req.options,
        local: req.local,
        uuid: randomUUID(),
        accessor: `audit_${randomBytes(4).toString('hex')}`,
      };
      const formatter = formatOptions(entry.options);
      const device = this.build(entry);
      try {
        await device.reopen();
      } catch (err) {
        await device.close().catch(() => {});
        throw badRequest(`sanity check failed; unable to open the ${entry.type} audit device for writing: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const salt = randomBytes(32);
      try {
        await storage.put(SALT_PREFIX + entry.uuid, Buffer.from(salt.toString('hex')));
        await storage.put(AUDIT_TABLE_PATH, Buffer.from(JSON.stringify({ entries: [...this.list(), entry] })));
      } catch (err) {
        await device.close().catch(() => {});
        throw err;
      }
      const audited = new AuditSalt(Buffer.from(salt.toString('hex')));
      this.mounted = [...this.mounted, { entry, device, salt: audited, formatter: new EntryFormatter(audited, formatter) }];
      this.opts.logger.info(`audit: enabled ${entry.type} device at ${entry.path}`);
    });
  }

  /** Disables a device; none at the path is not an error (Vault answers 204 either way). */
  disable(rawPath: string): Promise<void> {
    return this.exclusive(async () => {
      const storage = this.requireStorage();
      const path = normalisePath(rawPath);
      if (path === '/') throw badRequest('audit device path must be specified');
      const gone = this.mounted.find((m) => m.entry.path === path);
      if (!gone) return;
      const rest = this.mounted.filter((m) => m !== gone);
      await storage.put(AUDIT_TABLE_PATH, Buffer.from(JSON.stringify({ entries: rest.map((m) => m.entry) })));
      await storage.delete(SALT_PREFIX + gone.entry.uuid);
      this.mounted = rest;
      await gone.device.close().catch(() => {});
      this.opts.logger.info(`audit: disabled device at ${path}`);
    });
  }

  /**
   * Writes the request entry to every device; resolves when at least one
   * recorded it, else throws the 500 (the handler must then not run).
   */
  logRequest(rec: AuditRecord, error?: string): Promise<void> | void {
    const time = new Date().toISOString();
    return this.fanOut('request', (f) => f.requestLine(rec, time, error), rec);
  }

  /** Writes the response entry; throws the 500 when no device recorded it. */
  logResponse(rec: AuditRecord, reply: AuditReply | undefined, error?: string): Promise<void> | void {
    const time = new Date().toISOString();
    return this.fanOut('response', (f) => f.responseLine(rec, time, reply, error), rec);
  }

  private fanOut(which: 'request' | 'response', format: (f: EntryFormatter) => string, rec: AuditRecord): Promise<void> | void {
    const mounted = this.mounted;
    if (mounted.length === 0) return;
    let recorded = 0;
    const pending: Promise<void>[] = [];
    for (const m of mounted) {
      try {
        const line = format(m.formatter);
        const done = which === 'request' ? m.device.logRequest(line) : m.device.logResponse(line);
        if (done) pending.push(done.then(() => void recorded++, (err) => this.failed(m, err)));
        else recorded++;
      } catch (err) {
        this.failed(m, err);
      }
    }
    const finish = () => {
      if (recorded === 0) throw auditFailed(which);
      if (which === 'request') rec.requestLogged = true;
    };
    if (pending.length === 0) return finish();
    return Promise.all(pending).then(finish);
  }

  private failed(m: Mounted, err: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 1000) return;
    this.lastFailureLog = now;
    this.opts.logger.error(`audit: device ${m.entry.path} (${m.entry.type}) failed to record an entry: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  private requireStorage(): AuditStorage {
    if (!this.storage) throw new TresorError(503, 'Vault is sealed');
    return this.storage;
  }

  private async saltFor(storage: AuditStorage, uuid: string): Promise<AuditSalt> {
    let salt = await storage.get(SALT_PREFIX + uuid);
    if (!salt) {
      salt = Buffer.from(randomBytes(32).toString('hex'));
      await storage.put(SALT_PREFIX + uuid, salt);
    }
    return new AuditSalt(salt);
  }

  /** The device of an entry; throws 400 for bad options (enable checks them before anything is stored). */
  private build(entry: AuditEntry): AuditDevice {
    const o = entry.options;
    switch (entry.type) {
      case 'file': {
        const path = (o.file_path ?? o.path ?? '').trim();
        if (!path) throw badRequest('file_path is required');
        if (path !== 'stdout' && path !== 'discard') this.checkFilePath(path);
        return new FileDevice(path, fileMode(o));
      }
      case 'socket':
        return new SocketDevice(socketOptions(o));
      case 'syslog': {
        const opts = syslogOptions(o);
        checkSyslogSocket();
        return new SyslogDevice(opts);
      }
      default:
        throw badRequest(`unknown backend type: "${entry.type.slice(0, 64)}"`);
    }
  }

  /**
   * file_path must be absolute, without ".." segments, and not inside the
   * storage or plugin directories (symbolic links resolved), so that the
   * audit device cannot be used to write over Tresor's own files.
   */
  private checkFilePath(path: string): void {
    if (!isAbsolute(path)) throw badRequest('file_path must be an absolute path');
    if (path.split('/').includes('..')) throw badRequest('file_path must not contain ".." segments');
    const target = realTarget(path);
    for (const dir of this.opts.forbiddenDirs ?? []) {
      const forbidden = realTarget(dir);
      if (target === forbidden || target.startsWith(forbidden.endsWith(sep) ? forbidden : forbidden + sep)) {
        throw badRequest('file_path must not be inside the storage or plugin directory');
      }
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tableLock.then(fn, fn);
    this.tableLock = run.catch(() => {});
    return run;
  }
}

/** A stored device that could not be built at unseal (e.g. /dev/log gone): it records nothing, so it fails closed. */
function brokenDevice(why: string): AuditDevice {
  const fail = () => {
    throw new Error(why);
  };
  return { logRequest: fail, logResponse: fail, reopen: async () => fail(), close: async () => {} };
}

/** Audit paths end with "/" (Vault's sanitizePath). */
function normalisePath(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** The path with symbolic links resolved in its longest existing ancestor. */
function realTarget(path: string): string {
  let head = resolve(path);
  const tail: string[] = [];
  while (!existsSync(head) && dirname(head) !== head) {
    tail.unshift(head.slice(dirname(head).length).replace(/^\/+/, ''));
    head = dirname(head);
  }
  let real = head;
  try {
    real = realpathSync(head);
  } catch {
    // keep as resolved
  }
  return tail.length ? resolve(real, ...tail) : real;
}
