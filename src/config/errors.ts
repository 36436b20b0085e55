/**
 * A configuration problem found at startup. The message starts with
 * `file:line:` when the problem has a place in a file. It never contains
 * configured values (the HSM PIN lives in this configuration).
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line ? `:${line}` : ''}: ${message}` : message);
    this.name = 'ConfigError';
  }
}
