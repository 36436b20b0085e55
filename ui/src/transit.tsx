// Transit: keys (list, create, details, rotate, config) and encrypt/decrypt/sign/verify/hmac with the base64 done here.
import { useEffect, useState } from 'preact/hooks';
import { b64decode, b64encode, del, encPath, get, listKeys, post } from './api.ts';
import { Check, ConfirmButton, Copy, ErrorBox, Field, KV, Section, Select, fieldError, useAction } from './ui.tsx';
import { Link, navigate } from './main.tsx';

const KEY_TYPES = ['aes256-gcm96', 'aes128-gcm96', 'chacha20-poly1305', 'ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'hmac'];

export function TransitPage({ route }: { route: string }) {
  const [mounts, setMounts] = useState<string[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    get('sys/mounts').then(
      (r) => {
        const table = r.data ?? r;
        setMounts(Object.entries(table).filter(([, v]: [string, any]) => v?.type === 'transit').map(([k]) => k.replace(/\/$/, '')));
      },
      setError,
    );
  }, []);
  const parts = route.replace(/^\/transit\/?/, '').split('/').map(decodeURIComponent);
  if (error) return <ErrorBox error={error} />;
  if (!mounts) return <p aria-live="polite">Loading…</p>;
  if (mounts.length === 0)
    return (
      <>
        <h1>Transit</h1>
        <p>
          No transit engine is enabled. Enable one on the <Link to="/secrets">Secrets</Link> page.
        </p>
      </>
    );
  const mount = parts[0] && mounts.includes(parts[0]) ? parts[0] : mounts[0];
  const key = parts[0] === mount ? parts.slice(1).join('/') : '';
  return (
    <>
      <h1>Transit</h1>
      {mounts.length > 1 && <Select label="Transit mount" value={mount} options={mounts} onChange={(m) => navigate(`/transit/${m}`)} />}
      {key ? <KeyDetails key={key} mount={mount} name={key} /> : <KeyList mount={mount} />}
    </>
  );
}

function KeyList({ mount }: { mount: string }) {
  const [keys, setKeys] = useState<string[]>();
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState('');
  const [type, setType] = useState('aes256-gcm96');
  const [exportable, setExportable] = useState(false);
  const [derived, setDerived] = useState(false);
  const [convergent, setConvergent] = useState(false);
  const [backup, setBackup] = useState(false);
  const [autoRotate, setAutoRotate] = useState('');
  const [busy, createError, run] = useAction();
  useEffect(() => {
    listKeys(`${encPath(mount)}/keys`).then(setKeys, setError);
  }, [mount]);
  const nameError = fieldError(createError, 'name');
  const typeError = fieldError(createError, 'type', 'key type');
  return (
    <>
      <ErrorBox error={error} />
      <Section title="Keys" id="keys">
        {keys && keys.length === 0 && <p>No keys yet.</p>}
        <ul class="keys-list" aria-label="Transit keys">
          {(keys ?? []).map((k) => (
            <li key={k}>
              <Link to={`/transit/${mount}/${k}`}>{k}</Link>
            </li>
          ))}
        </ul>
      </Section>
      <Section title="Create key" id="create-key">
        <form
          aria-label="Create key"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const body: Record<string, unknown> = { type, exportable, derived, convergent_encryption: convergent, allow_plaintext_backup: backup };
              if (autoRotate) body.auto_rotate_period = autoRotate;
              await post(`${encPath(mount)}/keys/${encodeURIComponent(name.trim())}`, body);
              navigate(`/transit/${mount}/${name.trim()}`);
            });
          }}
        >
          <Field label="Key name" value={name} onInput={setName} required error={nameError} />
          <Select label="Key type" value={type} options={KEY_TYPES} onChange={setType} />
          {typeError && <p class="field-error" role="alert">{typeError}</p>}
          <Check label="Exportable" checked={exportable} onChange={setExportable} />
          <Check label="Derived (key derivation with a context)" checked={derived} onChange={setDerived} />
          <Check label="Convergent encryption (needs derived)" checked={convergent} onChange={setConvergent} />
          <Check label="Allow plaintext backup" checked={backup} onChange={setBackup} />
          <Field label="Auto-rotate period (e.g. 720h; empty = never)" value={autoRotate} onInput={setAutoRotate} error={fieldError(createError, 'auto_rotate_period')} />
          {!nameError && !typeError && !fieldError(createError, 'auto_rotate_period') && <ErrorBox error={createError} />}
          <button type="submit" class="primary" disabled={busy}>
            Create key
          </button>
        </form>
      </Section>
    </>
  );
}

function KeyDetails({ mount, name }: { mount: string; name: string }) {
  const [key, setKey] = useState<any>();
  const [error, setError] = useState<unknown>();
  const [busy, actionError, run] = useAction();
  const base = `${encPath(mount)}`;
  const load = () => get(`${base}/keys/${encodeURIComponent(name)}`).then((r) => setKey(r.data), setError);
  useEffect(() => {
    void load();
  }, [mount, name]);
  if (error) return <ErrorBox error={error} />;
  if (!key) return <p aria-live="polite">Loading…</p>;
  const versions = Object.entries(key.keys ?? {});
  const signing = Boolean(key.supports_signing);
  return (
    <>
      <p>
        <Link to={`/transit/${mount}`}>All keys</Link>
      </p>
      <Section title={`Key ${name}`} id="key">
        <KV
          rows={[
            ['Type', key.type],
            ['Latest version', String(key.latest_version)],
            ['Min decryption version', String(key.min_decryption_version)],
            ['Min encryption version', String(key.min_encryption_version)],
            ['Exportable', key.exportable ? 'yes' : 'no'],
            ['Derived', key.derived ? 'yes' : 'no'],
            ['Deletion allowed', key.deletion_allowed ? 'yes' : 'no'],
            ['Auto-rotate period', String(key.auto_rotate_period ?? 0)],
          ]}
        />
        <h3>Versions</h3>
        <ul>
          {versions.map(([v, t]) => (
            <li key={v}>
              Version {v}: {typeof t === 'number' ? new Date(t * 1000).toISOString() : typeof t === 'object' && t ? (t as any).creation_time ?? '' : String(t)}
            </li>
          ))}
        </ul>
        <ErrorBox error={actionError} />
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => run(async () => { await post(`${base}/keys/${encodeURIComponent(name)}/rotate`); await load(); })}>
            Rotate key
          </button>
          {key.deletion_allowed && (
            <ConfirmButton label="Delete key" danger confirm={`Delete key ${name}? Everything encrypted with it becomes unreadable.`} onConfirm={() => run(async () => { await del(`${base}/keys/${encodeURIComponent(name)}`); navigate(`/transit/${mount}`); })} />
          )}
        </div>
      </Section>
      <KeyConfig base={base} name={name} keyInfo={key} reload={load} />
      <Operations base={base} name={name} signing={signing} type={key.type} />
    </>
  );
}

function KeyConfig({ base, name, keyInfo, reload }: { base: string; name: string; keyInfo: any; reload: () => Promise<void> }) {
  const [minDec, setMinDec] = useState(String(keyInfo.min_decryption_version ?? 1));
  const [minEnc, setMinEnc] = useState(String(keyInfo.min_encryption_version ?? 0));
  const [deletion, setDeletion] = useState(Boolean(keyInfo.deletion_allowed));
  const [exportable, setExportable] = useState(Boolean(keyInfo.exportable));
  const [busy, error, run] = useAction();
  const [done, setDone] = useState(false);
  return (
    <Section title="Key configuration" id="key-config">
      <form
        aria-label="Key configuration"
        onSubmit={(e) => {
          e.preventDefault();
          setDone(false);
          void run(async () => {
            await post(`${base}/keys/${encodeURIComponent(name)}/config`, {
              min_decryption_version: Number(minDec),
              min_encryption_version: Number(minEnc),
              deletion_allowed: deletion,
              exportable,
            });
            setDone(true);
            await reload();
          });
        }}
      >
        <Field label="Minimum decryption version" type="number" min={0} value={minDec} onInput={setMinDec} error={fieldError(error, 'min_decryption_version')} />
        <Field label="Minimum encryption version" type="number" min={0} value={minEnc} onInput={setMinEnc} error={fieldError(error, 'min_encryption_version')} />
        <Check label="Deletion allowed" checked={deletion} onChange={setDeletion} />
        <Check label="Exportable (cannot be undone)" checked={exportable} onChange={setExportable} />
        {!fieldError(error, 'min_decryption_version', 'min_encryption_version') && <ErrorBox error={error} />}
        {done && <p role="status">Saved.</p>}
        <button type="submit" disabled={busy}>
          Save configuration
        </button>
      </form>
    </Section>
  );
}

function Operations({ base, name, signing, type }: { base: string; name: string; signing: boolean; type: string }) {
  const ops = type === 'hmac' ? ['hmac'] : signing ? ['sign', 'verify', 'hmac'] : ['encrypt', 'decrypt', 'hmac'];
  const [op, setOp] = useState(ops[0]);
  const [input, setInput] = useState('');
  const [second, setSecond] = useState('');
  const [context, setContext] = useState('');
  const [inputIsB64, setInputIsB64] = useState(false);
  const [result, setResult] = useState<{ label: string; value: string } | undefined>();
  const [busy, error, run] = useAction();
  const k = encodeURIComponent(name);
  const b64 = (s: string) => (inputIsB64 ? s.trim() : b64encode(s));
  const submit = async () => {
    const ctx = context ? { context: b64encode(context) } : {};
    if (op === 'encrypt') {
      const r = await post(`${base}/encrypt/${k}`, { plaintext: b64(input), ...ctx });
      setResult({ label: 'Ciphertext', value: r.data.ciphertext });
    } else if (op === 'decrypt') {
      const r = await post(`${base}/decrypt/${k}`, { ciphertext: input.trim(), ...ctx });
      let text: string;
      try {
        text = b64decode(r.data.plaintext);
      } catch {
        text = r.data.plaintext;
      }
      setResult({ label: 'Plaintext (decoded from base64)', value: text });
    } else if (op === 'sign') {
      const r = await post(`${base}/sign/${k}`, { input: b64(input), ...ctx });
      setResult({ label: 'Signature', value: r.data.signature });
    } else if (op === 'verify') {
      const r = await post(`${base}/verify/${k}`, { input: b64(input), signature: second.trim(), ...ctx });
      setResult({ label: 'Verified', value: r.data.valid ? 'valid' : 'NOT valid' });
    } else {
      const r = await post(`${base}/hmac/${k}`, { input: b64(input) });
      setResult({ label: 'HMAC', value: r.data.hmac });
    }
  };
  const inputLabel = op === 'decrypt' ? 'Ciphertext' : op === 'encrypt' ? 'Plaintext' : 'Input';
  const inputError = fieldError(error, 'plaintext', 'ciphertext', 'input');
  return (
    <Section title="Use the key" id="ops">
      <div role="group" aria-label="Operation" class="tabs">
        {ops.map((o) => (
          <button key={o} type="button" aria-pressed={op === o} onClick={() => { setOp(o); setResult(undefined); }}>
            {o[0].toUpperCase() + o.slice(1)}
          </button>
        ))}
      </div>
      <form
        aria-label={op}
        onSubmit={(e) => {
          e.preventDefault();
          void run(submit);
        }}
      >
        <Field label={inputLabel} multiline rows={3} value={input} onInput={setInput} required error={inputError} />
        {op !== 'decrypt' && <Check label="The input is base64 already" checked={inputIsB64} onChange={setInputIsB64} />}
        {op === 'verify' && <Field label="Signature" value={second} onInput={setSecond} required error={fieldError(error, 'signature')} />}
        {op !== 'hmac' && <Field label="Context (derived keys only)" value={context} onInput={setContext} error={fieldError(error, 'context')} />}
        {!inputError && !fieldError(error, 'signature', 'context') && <ErrorBox error={error} />}
        <button type="submit" class="primary" disabled={busy}>
          {op[0].toUpperCase() + op.slice(1)}
        </button>
      </form>
      {result && (
        <div class="result" role="status">
          <span class="label">{result.label}</span>
          <code data-testid="transit-result">{result.value}</code> <Copy text={result.value} />
        </div>
      )}
    </Section>
  );
}
