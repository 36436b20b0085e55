// Policies, tokens and operator actions (seal, rotate, rekey, generate-root).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, decodeRootToken, del, encPath, get, listKeys, post, put } from './api.ts';
import { ConfirmButton, Copy, ErrorBox, Field, Hidden, KV, Section, downloadJson, fieldError, useAction } from './ui.tsx';
import { Link, navigate, type SealStatus } from './main.tsx';
import { Progress } from './start.tsx';

export function PoliciesPage({ route }: { route: string }) {
  const name = decodeURIComponent(route.replace(/^\/policies\/?/, ''));
  return name ? <PolicyEditor name={name === '+new' ? '' : name} /> : <PolicyList />;
}

function PolicyList() {
  const [names, setNames] = useState<string[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    listKeys('sys/policies/acl').then(setNames, setError);
  }, []);
  return (
    <>
      <h1>Policies</h1>
      <ErrorBox error={error} />
      <ul class="keys-list" aria-label="ACL policies">
        {(names ?? []).map((n) => (
          <li key={n}>
            <Link to={`/policies/${encodeURIComponent(n)}`}>{n}</Link>
          </li>
        ))}
      </ul>
      <p>
        <Link to="/policies/+new">Create policy</Link>
      </p>
      <CapabilityChecker />
    </>
  );
}

function PolicyEditor({ name: initialName }: { name: string }) {
  const creating = initialName === '';
  const [name, setName] = useState(initialName);
  const [text, setText] = useState('');
  const [loaded, setLoaded] = useState(creating);
  const [loadError, setLoadError] = useState<unknown>();
  const [busy, error, run] = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (creating) return;
    get(`sys/policies/acl/${encodeURIComponent(initialName)}`).then(
      (r) => {
        setText(r.data?.policy ?? r.policy ?? '');
        setLoaded(true);
      },
      setLoadError,
    );
  }, [initialName]);
  const readOnly = initialName === 'root';
  // A policy the server cannot parse answers 400: show its message at the text.
  const policyError = error instanceof ApiError && error.status === 400 && !fieldError(error, 'name') ? error.errors.join('; ') : undefined;
  return (
    <>
      <p>
        <Link to="/policies">All policies</Link>
      </p>
      <h1>{creating ? 'Create policy' : `Policy ${initialName}`}</h1>
      <ErrorBox error={loadError} />
      {loaded && (
        <form
          aria-label="Policy"
          onSubmit={(e) => {
            e.preventDefault();
            setSaved(false);
            void run(async () => {
              await put(`sys/policies/acl/${encodeURIComponent(name.trim())}`, { policy: text });
              setSaved(true);
              if (creating) navigate(`/policies/${encodeURIComponent(name.trim())}`);
            });
          }}
        >
          {creating && <Field label="Name" value={name} onInput={setName} required error={fieldError(error, 'name')} />}
          <Field label="Policy (HCL)" multiline rows={14} value={text} onInput={setText} error={policyError} />
          {!policyError && !fieldError(error, 'name') && <ErrorBox error={error} />}
          {saved && <p role="status">Saved.</p>}
          {!readOnly && (
            <div class="actions">
              <button type="submit" class="primary" disabled={busy}>
                Save policy
              </button>
              {!creating && initialName !== 'default' && (
                <ConfirmButton
                  label="Delete policy"
                  danger
                  confirm={`Delete policy ${initialName}?`}
                  onConfirm={() =>
                    run(async () => {
                      await del(`sys/policies/acl/${encodeURIComponent(initialName)}`);
                      navigate('/policies');
                    })
                  }
                />
              )}
            </div>
          )}
        </form>
      )}
    </>
  );
}

function CapabilityChecker() {
  const [path, setPath] = useState('');
  const [caps, setCaps] = useState<string[]>();
  const [busy, error, run] = useAction();
  return (
    <Section title="What can this token do on a path?" id="caps">
      <form
        aria-label="Capabilities"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const p = path.trim().replace(/^\/+/, '');
            const r = await post('sys/capabilities-self', { paths: [p] });
            setCaps(r[p] ?? r.capabilities ?? r.data?.capabilities ?? []);
          });
        }}
      >
        <Field label="Path" value={path} onInput={setPath} placeholder="secret/data/app" required error={fieldError(error, 'path', 'paths')} />
        {!fieldError(error, 'path', 'paths') && <ErrorBox error={error} />}
        <button type="submit" disabled={busy}>
          Check
        </button>
      </form>
      {caps && (
        <p role="status" data-testid="caps">
          Capabilities: <strong>{caps.length ? caps.join(', ') : 'none'}</strong>
        </p>
      )}
    </Section>
  );
}

export function TokensPage() {
  const [self, setSelf] = useState<any>();
  const [selfError, setSelfError] = useState<unknown>();
  const [policies, setPolicies] = useState('default');
  const [ttl, setTtl] = useState('1h');
  const [displayName, setDisplayName] = useState('');
  const [created, setCreated] = useState<any>();
  const [busy, error, run] = useAction();
  const [accessor, setAccessor] = useState('');
  const [revoked, setRevoked] = useState('');
  const [rbusy, rerror, rrun] = useAction();
  useEffect(() => {
    get('auth/token/lookup-self').then((r) => setSelf(r.data), setSelfError);
  }, []);
  return (
    <>
      <h1>Tokens</h1>
      <Section title="This token" id="self">
        <ErrorBox error={selfError} />
        {self && (
          <KV
            rows={[
              ['Display name', self.display_name],
              ['Policies', (self.policies ?? []).join(', ')],
              ['Accessor', <code>{self.accessor}</code>],
              ['TTL', self.ttl ? `${self.ttl} s` : 'never expires'],
              ['Expires', self.expire_time ?? '—'],
              ['Renewable', self.renewable ? 'yes' : 'no'],
              ['Entity', self.entity_id || '—'],
            ]}
          />
        )}
      </Section>
      <Section title="Create a token" id="create-token">
        <form
          aria-label="Create a token"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const r = await post('auth/token/create', {
                policies: policies.split(',').map((p) => p.trim()).filter(Boolean),
                ttl: ttl || undefined,
                display_name: displayName || undefined,
              });
              setCreated(r.auth);
            });
          }}
        >
          <Field label="Policies (comma-separated)" value={policies} onInput={setPolicies} error={fieldError(error, 'policies')} />
          <Field label="TTL" value={ttl} onInput={setTtl} hint="e.g. 30m, 24h" error={fieldError(error, 'ttl')} />
          <Field label="Display name" value={displayName} onInput={setDisplayName} error={fieldError(error, 'display_name')} />
          {!fieldError(error, 'policies', 'ttl', 'display_name') && <ErrorBox error={error} />}
          <button type="submit" class="primary" disabled={busy}>
            Create token
          </button>
        </form>
        {created && (
          <div class="warning" role="status">
            <p>
              <strong>The new token is shown once.</strong> Copy it now.
            </p>
            <KV
              rows={[
                ['Token', <Hidden value={created.client_token} label="new token" />],
                ['Accessor', <code>{created.accessor}</code>],
                ['Policies', (created.policies ?? []).join(', ')],
                ['TTL', `${created.lease_duration} s`],
              ]}
            />
            <button type="button" class="small" onClick={() => setCreated(undefined)}>
              Done
            </button>
          </div>
        )}
      </Section>
      <Section title="Revoke by accessor" id="revoke">
        <form
          aria-label="Revoke by accessor"
          onSubmit={(e) => {
            e.preventDefault();
            setRevoked('');
            void rrun(async () => {
              await post('auth/token/revoke-accessor', { accessor: accessor.trim() });
              setRevoked(accessor.trim());
              setAccessor('');
            });
          }}
        >
          <Field label="Accessor" value={accessor} onInput={setAccessor} required error={rerror instanceof ApiError ? rerror.errors.join('; ') : undefined} />
          {rerror instanceof ApiError && rerror.explanation && <p role="alert">{rerror.explanation}</p>}
          {!(rerror instanceof ApiError) && <ErrorBox error={rerror} />}
          {revoked && <p role="status">Revoked the token with accessor {revoked} and its children.</p>}
          <button type="submit" class="danger" disabled={rbusy}>
            Revoke
          </button>
        </form>
      </Section>
    </>
  );
}

export function OperatorPage({ seal, onChange }: { seal: SealStatus; onChange: () => void }) {
  const [busy, error, run] = useAction();
  const [message, setMessage] = useState('');
  const recovery = Boolean(seal.recovery_seal);
  return (
    <>
      <h1>Operator</h1>
      <p>These actions need a token with sudo on the sys/ paths (the root token has it).</p>
      <ErrorBox error={error} />
      {message && <p role="status">{message}</p>}
      <Section title="Seal and barrier key" id="seal-ops">
        <div class="actions">
          <ConfirmButton
            label="Seal"
            danger
            confirm={recovery ? 'Seal Tresor? It serves nothing until unsealed (the HSM unseals it again at the next start, or recovery keys now).' : 'Seal Tresor? It serves nothing until enough unseal keys are entered.'}
            onConfirm={() =>
              run(async () => {
                await put('sys/seal');
                onChange();
              })
            }
          />
          <ConfirmButton
            label="Rotate barrier key"
            confirm="Add a new barrier key term? Older terms stay for decryption."
            onConfirm={() =>
              run(async () => {
                await put('sys/rotate');
                const k = await get('sys/key-status');
                setMessage(`Barrier key rotated: term ${(k.data ?? k).term}.`);
              })
            }
          />
        </div>
      </Section>
      <RekeyFlow recovery={recovery} />
      <GenerateRootFlow recovery={recovery} />
    </>
  );
}

function RekeyFlow({ recovery }: { recovery: boolean }) {
  const base = recovery ? 'sys/rekey-recovery-key' : 'sys/rekey';
  const [status, setStatus] = useState<any>();
  const [shares, setShares] = useState('5');
  const [threshold, setThreshold] = useState('3');
  const [key, setKey] = useState('');
  const [result, setResult] = useState<any>();
  const [busy, error, run] = useAction();
  const load = () => get(`${base}/init`).then(setStatus, () => undefined);
  useEffect(() => {
    void load();
  }, []);
  const what = recovery ? 'recovery keys' : 'unseal keys';
  return (
    <Section title={`Rekey (new ${what})`} id="rekey">
      <ErrorBox error={error} />
      {result ? (
        <div class="warning" role="alert">
          <p>
            <strong>The new {what} are shown once.</strong> The old ones no longer work.
          </p>
          <ol>
            {(result.keys_base64 ?? result.keys ?? []).map((k: string, i: number) => (
              <li key={i}>
                <code>{k}</code> <Copy text={k} />
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => downloadJson('tresor-rekey.json', result)}>
            Download as JSON
          </button>{' '}
          <button type="button" onClick={() => setResult(undefined)}>
            Done
          </button>
        </div>
      ) : !status?.started ? (
        <form
          aria-label="Start rekey"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              setStatus(await put(`${base}/init`, { secret_shares: Number(shares), secret_threshold: Number(threshold) }));
            });
          }}
        >
          <Field label="New key shares" type="number" min={1} value={shares} onInput={setShares} error={fieldError(error, 'secret_shares')} />
          <Field label="New key threshold" type="number" min={1} value={threshold} onInput={setThreshold} error={fieldError(error, 'secret_threshold')} />
          <button type="submit" disabled={busy}>
            Start rekey
          </button>
        </form>
      ) : (
        <form
          aria-label="Rekey: submit a key"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const r = await put(`${base}/update`, { key: key.trim(), nonce: status.nonce });
              setKey('');
              if (r.complete) {
                setResult(r);
                setStatus(undefined);
              } else setStatus({ ...status, progress: r.progress });
            });
          }}
        >
          <p>
            Nonce <code>{status.nonce}</code>: new split {status.t} of {status.n}.
          </p>
          <Progress value={status.progress} max={status.required} label="Current keys entered" />
          <Field label={`Current ${recovery ? 'recovery' : 'unseal'} key`} type="password" value={key} onInput={setKey} required />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Submit key
            </button>
            <button
              type="button"
              onClick={() =>
                run(async () => {
                  await del(`${base}/init`);
                  setStatus(undefined);
                })
              }
            >
              Cancel rekey
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}

function GenerateRootFlow({ recovery }: { recovery: boolean }) {
  const [status, setStatus] = useState<any>();
  const [otp, setOtp] = useState('');
  const [key, setKey] = useState('');
  const [token, setNewToken] = useState('');
  const [busy, error, run] = useAction();
  useEffect(() => {
    get('sys/generate-root/attempt').then(setStatus, () => undefined);
  }, []);
  return (
    <Section title="Generate a root token" id="generate-root">
      <ErrorBox error={error} />
      {token ? (
        <div class="warning" role="alert">
          <p>
            <strong>New root token, shown once:</strong> <Hidden value={token} label="new root token" />
          </p>
          <button type="button" onClick={() => setNewToken('')}>
            Done
          </button>
        </div>
      ) : !status?.started ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run(async () => {
              const r = await put('sys/generate-root/attempt', {});
              setOtp(r.otp ?? '');
              setStatus(r);
            })
          }
        >
          Start generate-root
        </button>
      ) : (
        <form
          aria-label="Generate root: submit a key"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const r = await put('sys/generate-root/update', { key: key.trim(), nonce: status.nonce });
              setKey('');
              if (r.complete) {
                const encoded = r.encoded_token || r.encoded_root_token;
                setNewToken(otp ? decodeRootToken(encoded, otp) : encoded);
                setStatus(undefined);
              } else setStatus({ ...status, progress: r.progress });
            });
          }}
        >
          <p>
            Nonce <code>{status.nonce}</code>.{' '}
            {otp ? 'This browser keeps the one-time password and decodes the token at the end.' : 'Started elsewhere: the final answer is the encoded token, to decode with its OTP.'}
          </p>
          <Progress value={status.progress} max={status.required} label="Keys entered" />
          <Field label={recovery ? 'Recovery key' : 'Unseal key'} type="password" value={key} onInput={setKey} required />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Submit key
            </button>
            <button
              type="button"
              onClick={() =>
                run(async () => {
                  await del('sys/generate-root/attempt');
                  setStatus(undefined);
                  setOtp('');
                })
              }
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}

export { encPath };
