import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { badRequest } from '../errors.ts';
import type { AuditDevice } from './types.ts';

/** Vault's default mode of a new audit file. */
const DEFAULT_MODE = 0o600;

/** `mode`: octal text; "0000" leaves the file's permissions alone. */
export function fileMode(options: Record<string, string>): number {
  const raw = options.mode?.trim();
  if (!raw) return DEFAULT_MODE;
  if (!/^[0-7]{1,4}$/.test(raw)) throw badRequest('unable to parse "mode": must be an octal file mode such as "0600"');
  return parseInt(raw, 8);
}

/**
 * The `file` device: appends each entry with a single write(2) on a file
 * opened O_APPEND, synchronously, so lines never interleave, appear in the
 * order the requests were audited, and an acknowledged request's entries
 * are in the file (the kernel's page cache) before the client hears back.
 * `stdout` writes to the process's standard output; `discard` writes nothing.
 * A failed write closes the file and tries once more on a fresh open (so a
 * repaired path works again with no SIGHUP).
 */
export class FileDevice implements AuditDevice {
  private fd: number | undefined;

  constructor(
    private readonly path: string,
    private readonly mode: number,
  ) {}

  /** Opens (creating) the file; throws when it cannot be opened for writing. */
  open(): void {
    if (this.path === 'stdout' || this.path === 'discard' || this.fd !== undefined) return;
    const fd = openSync(this.path, 'a', this.mode || DEFAULT_MODE);
    try {
      if (this.mode !== 0) fchmodSync(fd, this.mode);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }

  private write(line: string): void {
    if (this.path === 'discard') return;
    if (this.path === 'stdout') {
      writeAll(1, Buffer.from(line));
      return;
    }
    const bytes = Buffer.from(line);
    try {
      this.open();
      writeAll(this.fd!, bytes);
    } catch {
      // Once more on a fresh open: the file may have been moved away or its disk repaired.
      this.dropFd();
      this.open();
      writeAll(this.fd!, bytes);
    }
  }

  logRequest(line: string): void {
    this.write(line);
  }

  logResponse(line: string): void {
    this.write(line);
  }

  async reopen(): Promise<void> {
    this.dropFd();
    this.open();
  }

  async close(): Promise<void> {
    this.dropFd();
  }

  private dropFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = undefined;
  }
}

/** One write(2) for the whole line in practice; a short write (full disk) is continued. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
