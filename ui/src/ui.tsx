// Small shared pieces: labelled fields with their error beside them, the error box, hidden values, copy buttons.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

let nextId = 0;
export function useId(prefix = 'f'): string {
  const ref = useRef<string | undefined>(undefined);
  ref.current ??= `${prefix}-${++nextId}`;
  return ref.current;
}

/** The error's message for a field when the server's message names it (Vault's errors quote the parameter). */
export function fieldError(err: unknown, ...names: string[]): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const msg = err.errors.join('; ');
  return names.some((n) => new RegExp(`(^|[^a-z_])${n}([^a-z_]|$)`, 'i').test(msg)) ? msg : undefined;
}

interface FieldProps {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: string;
  name?: string;
  error?: string;
  hint?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  multiline?: boolean;
  rows?: number;
  min?: number;
  spellcheck?: boolean;
}

export function Field(p: FieldProps) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const described = [p.error ? errId : '', p.hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: p.name,
    value: p.value,
    required: p.required,
    'aria-invalid': p.error ? true : undefined,
    'aria-describedby': described,
    placeholder: p.placeholder,
    spellcheck: p.spellcheck ?? false,
    onInput: (e: Event) => p.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={`field${p.error ? ' invalid' : ''}`}>
      <label for={id}>{p.label}</label>
      {p.multiline ? <textarea {...common} rows={p.rows ?? 8} /> : <input {...common} type={(p.type ?? 'text') as 'text'} autoComplete={p.autoComplete ?? 'off'} min={p.min} />}
      {p.hint && <small id={hintId}>{p.hint}</small>}
      {p.error && (
        <p id={errId} class="field-error" role="alert">
          <span aria-hidden="true">⚠ </span>
          {p.error}
        </p>
      )}
    </div>
  );
}

export function Check(p: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string }) {
  const id = useId();
  return (
    <div class="check">
      <input id={id} type="checkbox" checked={p.checked} onChange={(e) => p.onChange(e.currentTarget.checked)} />
      <label for={id}>{p.label}</label>
      {p.hint && <small>{p.hint}</small>}
    </div>
  );
}

export function Select(p: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} value={p.value} onChange={(e) => p.onChange(e.currentTarget.value)}>
        {p.options.map((o) => (
          <option value={o} key={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The server's error, with the 403 explanation; `shown` hides it when a field shows it already. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      <strong>Error{e && e.status ? ` ${e.status}` : ''}:</strong> {e ? e.errors.join('; ') : String((error as Error).message ?? error)}
      {e?.explanation && <p>{e.explanation}</p>}
    </div>
  );
}

export function Copy({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        } catch {
          setDone(false);
        }
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

/** A secret value: dots until revealed, with a copy button. */
export function Hidden({ value, label }: { value: string; label: string }) {
  const [shown, setShown] = useState(false);
  return (
    <span class="hidden-value">
      <code aria-label={shown ? undefined : `${label} (hidden)`}>{shown ? value : '••••••••'}</code>
      <button type="button" class="small" aria-pressed={shown} onClick={() => setShown(!shown)}>
        {shown ? 'Hide' : 'Reveal'}
        <span class="sr"> {label}</span>
      </button>
      <Copy text={value} label={`Copy`} />
    </span>
  );
}

/** A button that asks once more before doing something that cannot be undone. */
export function ConfirmButton(p: { label: string; confirm: string; onConfirm: () => void | Promise<void>; danger?: boolean }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class={p.danger ? 'danger' : ''} onClick={() => setAsking(true)}>
        {p.label}
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label="Confirm">
      <span>{p.confirm}</span>
      <button
        ref={yes}
        type="button"
        class="danger"
        onClick={async () => {
          setAsking(false);
          await p.onConfirm();
        }}
      >
        Yes, {p.label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id ? `${id}-h` : undefined}>
      <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
      {children}
    </section>
  );
}

export function KV({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Runs an async action, keeping its error and a busy flag. */
export function useAction(): [boolean, unknown, (fn: () => Promise<void>) => Promise<void>, (e: unknown) => void] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, run, setError];
}

export function downloadJson(name: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function readFileText(file: File): Promise<string> {
  return file.text();
}
