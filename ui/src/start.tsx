// Start: initialise (Shamir or recovery shares), unseal with progress, and signing in.
import { useState } from 'preact/hooks';
import { ApiError, get, post, put } from './api.ts';
import { Check, Copy, ErrorBox, Field, Hidden, Section, Select, downloadJson, fieldError, useAction } from './ui.tsx';
import { navigate, type SealStatus } from './main.tsx';

/** A PGP public key file as Vault wants it: the base64 of the binary key (armour stripped). */
async function pgpKeyFromFile(file: File): Promise<string> {
  const text = await file.text();
  if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
    const body = text.split('-----BEGIN PGP PUBLIC KEY BLOCK-----')[1].split('-----END')[0];
    const lines = body.split(/\r?\n/);
    const blank = lines.findIndex((l, i) => i > 0 && l.trim() === '');
    return lines
      .slice(blank >= 0 ? blank + 1 : 1)
      .filter((l) => l.trim() && !l.startsWith('='))
      .join('')
      .trim();
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function StartPage({ seal, onChange, onToken }: { seal: SealStatus; onChange: () => void; onToken: (t: string) => void }) {
  return !seal.initialized ? <InitForm seal={seal} onChange={onChange} onToken={onToken} /> : <UnsealForm seal={seal} onChange={onChange} />;
}

function InitForm({ seal, onChange, onToken }: { seal: SealStatus; onChange: () => void; onToken: (t: string) => void }) {
  const recovery = Boolean(seal.recovery_seal) || (seal.type !== 'shamir' && seal.type !== '');
  const [shares, setShares] = useState('5');
  const [threshold, setThreshold] = useState('3');
  const [pgp, setPgp] = useState<string[]>([]);
  const [pgpError, setPgpError] = useState<string>();
  const [result, setResult] = useState<any>();
  const [busy, error, run] = useAction();
  const prefix = recovery ? 'recovery_' : 'secret_';

  if (result) {
    const keys: string[] = recovery ? result.recovery_keys_b64 ?? result.recovery_keys_base64 ?? [] : result.keys_base64 ?? [];
    return (
      <Section title="Tresor is initialised" id="init-done">
        <div class="warning" role="alert">
          <strong>Save these now.</strong> The {recovery ? 'recovery' : 'unseal'} keys and the root token are shown only once and Tresor cannot show
          them again. Give each key to a different holder; {result[`${prefix}threshold`] ?? threshold} of them are needed to{' '}
          {recovery ? 'authorise recovery operations' : 'unseal'}.
        </div>
        <ol class="keys" aria-label={recovery ? 'Recovery keys' : 'Unseal keys'}>
          {keys.map((k, i) => (
            <li key={i}>
              <span class="label">{recovery ? 'Recovery' : 'Unseal'} key {i + 1}</span> <code class="key" data-testid="init-key">{k}</code> <Copy text={k} />
            </li>
          ))}
        </ol>
        <p>
          <span class="label">Root token</span> <code data-testid="root-token">{result.root_token}</code> <Copy text={result.root_token} />
        </p>
        <div class="actions">
          <button type="button" onClick={() => downloadJson('tresor-init.json', result)}>
            Download keys as JSON
          </button>
          <button
            type="button"
            class="primary"
            onClick={() => {
              const t = result.root_token;
              setResult(undefined);
              onChange();
              onToken(t);
            }}
          >
            I have saved them: continue
          </button>
        </div>
      </Section>
    );
  }

  return (
    <Section title="Initialise Tresor" id="init">
      <p>
        Seal type: <strong>{seal.type}</strong>.{' '}
        {recovery
          ? 'The HSM holds the root key and unseals Tresor by itself; recovery keys authorise rekey, generate-root and unsealing by hand.'
          : 'The root key is split into unseal key shares (Shamir).'}
      </p>
      <form
        aria-label="Initialise"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const body: Record<string, unknown> = { [`${prefix}shares`]: Number(shares), [`${prefix}threshold`]: Number(threshold) };
            if (pgp.length) body[recovery ? 'recovery_pgp_keys' : 'pgp_keys'] = pgp;
            const r = await put('sys/init', body);
            setResult({ ...r, [`${prefix}threshold`]: Number(threshold) });
          });
        }}
      >
        <Field label={recovery ? 'Recovery key shares' : 'Key shares'} type="number" min={1} value={shares} onInput={setShares} required error={fieldError(error, `${prefix}shares`)} />
        <Field
          label={recovery ? 'Recovery key threshold' : 'Key threshold'}
          type="number"
          min={1}
          value={threshold}
          onInput={setThreshold}
          required
          error={fieldError(error, `${prefix}threshold`)}
        />
        <div class="field">
          <label for="pgp-files">PGP public keys (optional, one file per key holder, in order)</label>
          <input
            id="pgp-files"
            type="file"
            multiple
            accept=".asc,.gpg,.pgp,.pub,text/plain"
            aria-describedby={pgpError || fieldError(error, 'pgp_keys', 'recovery_pgp_keys') ? 'pgp-err' : undefined}
            onChange={async (e) => {
              setPgpError(undefined);
              try {
                setPgp(await Promise.all(Array.from(e.currentTarget.files ?? []).map(pgpKeyFromFile)));
              } catch {
                setPgpError('could not read a PGP key file');
              }
            }}
          />
          {pgp.length > 0 && <small>{pgp.length} key file(s): each key share is encrypted to its holder's key.</small>}
          {(pgpError || fieldError(error, 'pgp_keys', 'recovery_pgp_keys')) && (
            <p id="pgp-err" class="field-error" role="alert">
              {pgpError ?? fieldError(error, 'pgp_keys', 'recovery_pgp_keys')}
            </p>
          )}
        </div>
        {!fieldError(error, `${prefix}shares`, `${prefix}threshold`, 'pgp_keys', 'recovery_pgp_keys') && <ErrorBox error={error} />}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Initialising…' : 'Initialise'}
        </button>
      </form>
    </Section>
  );
}

export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  return (
    <div class="progress">
      <label>
        {label}: <strong data-testid="progress">{value} of {max}</strong>
        <progress value={value} max={max} aria-label={label} />
      </label>
    </div>
  );
}

function UnsealForm({ seal, onChange }: { seal: SealStatus; onChange: () => void }) {
  const [key, setKey] = useState('');
  const [progress, setProgress] = useState<{ progress: number; t: number } | undefined>();
  const [busy, error, run] = useAction();
  const p = progress ?? { progress: seal.progress, t: seal.t };
  const recovery = Boolean(seal.recovery_seal);
  return (
    <Section title="Unseal Tresor" id="unseal">
      <p>
        Tresor is <strong>sealed</strong> (seal type {seal.type}). Enter {p.t} {recovery ? 'recovery' : 'unseal'} keys, one at a time
        {recovery ? '; the HSM unseals Tresor by itself once it answers again' : ''}.
      </p>
      <Progress value={p.progress} max={p.t} label="Keys entered" />
      <form
        aria-label="Unseal"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const r = await put('sys/unseal', { key: key.trim() });
            setKey('');
            setProgress({ progress: r.progress, t: r.t });
            if (!r.sealed) {
              onChange();
              navigate('/status');
            }
          });
        }}
      >
        <Field label={recovery ? 'Recovery key' : 'Unseal key'} type="password" value={key} onInput={setKey} required autoComplete="off" error={error instanceof ApiError ? error.errors.join('; ') : undefined} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Submit key
          </button>
          <button
            type="button"
            onClick={() =>
              run(async () => {
                const r = await put('sys/unseal', { reset: true });
                setProgress({ progress: r.progress, t: r.t });
              })
            }
          >
            Reset progress
          </button>
        </div>
        {!(error instanceof ApiError) && <ErrorBox error={error} />}
      </form>
    </Section>
  );
}

export function LoginPage({ onToken }: { onToken: (t: string) => void }) {
  const [method, setMethod] = useState('token');
  const [token, setTok] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [mount, setMount] = useState('userpass');
  const [busy, error, run] = useAction();
  return (
    <Section title="Sign in" id="login">
      <form
        aria-label="Sign in"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            if (method === 'token') {
              await get('auth/token/lookup-self', { token: token.trim() });
              onToken(token.trim());
            } else {
              const r = await post(`auth/${encodeURIComponent(mount)}/login/${encodeURIComponent(user)}`, { password });
              onToken(r.auth.client_token);
            }
          });
        }}
      >
        <Select label="Method" value={method} options={['token', 'userpass']} onChange={setMethod} />
        {method === 'token' ? (
          <Field label="Token" type="password" value={token} onInput={setTok} required error={error instanceof ApiError ? error.errors.join('; ') : undefined} />
        ) : (
          <>
            <Field label="Mount path" value={mount} onInput={setMount} required />
            <Field label="Username" value={user} onInput={setUser} required autoComplete="username" />
            <Field label="Password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" error={error instanceof ApiError ? error.errors.join('; ') : undefined} />
          </>
        )}
        {!(error instanceof ApiError) && <ErrorBox error={error} />}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <p>
          <small>The token is kept in this tab's session storage only; signing out forgets it (it is not revoked).</small>
        </p>
      </form>
    </Section>
  );
}

export { Hidden, Check };
