import assert from 'node:assert/strict';

/**
 * The forms a secret could leak in: as given, and its base64/hex encodings
 * (a plaintext goes to transit as base64; keys print as hex or base64).
 */
function leakForms(secret: string): string[] {
  const forms = new Set([secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]);
  // Padding-free base64 too, which survives being embedded in longer base64.
  forms.add(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  return [...forms].filter((f) => f.length >= 4);
}

/**
 * Asserts that no line of `logText` contains any of `secrets` (name -> value)
 * in any of its usual encodings. The failure names the secret and the line
 * number, never the value, so a test report cannot leak it either.
 */
export function assertNoSecretsInLog(logText: string, secrets: Record<string, string | string[]>): void {
  const lines = logText.split('\n');
  assert.ok(lines.length > 1, 'the log is empty: nothing was checked');
  for (const [name, value] of Object.entries(secrets)) {
    const values = Array.isArray(value) ? value : [value];
    for (const [i, v] of values.entries()) {
      assert.ok(v.length >= 4, `secret ${name}[${i}] is too short to search for`);
      for (const form of leakForms(v)) {
        const at = lines.findIndex((line) => line.includes(form));
        assert.equal(at, -1, `secret ${name}${values.length > 1 ? `[${i}]` : ''} appears in log line ${at + 1}`);
      }
    }
  }
}

/** The JSON log lines of a server's output (lines starting with `{`), parsed; throws on a malformed one. */
export function jsonLogLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
