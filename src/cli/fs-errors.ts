/** A filesystem error in words (`no such file or directory`), without Node's call details. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
  };
  return (code && words[code]) ?? (code ? code : String((err as Error).message ?? err));
}
