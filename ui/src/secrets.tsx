// Secrets engines (list, enable, disable) and the KV v1/v2 browser.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, del, encPath, get, listKeys, post, put } from './api.ts';
import { Check, ConfirmButton, ErrorBox, Field, Hidden, KV, Section, Select, fieldError, useAction } from './ui.tsx';
import { Link, navigate } from './main.tsx';

interface Mount {
  path: string;
  type: string;
  description: string;
  options?: Record<string, string> | null;
  seal_wrap?: boolean;
  external_entropy_access?: boolean;
  accessor?: string;
}

function useMounts(): [Mount[] | undefined, unknown, () => Promise<void>] {
  const [mounts, setMounts] = useState<Mount[]>();
  const [error, setError] = useState<unknown>();
  const load = async () => {
    try {
      const r = await get('sys/mounts');
      const table = r.data ?? r;
      setMounts(
        Object.entries(table)
          .filter(([, v]) => v && typeof v === 'object' && 'type' in (v as object))
          .map(([path, v]) => ({ path, ...(v as object) }) as Mount)
          .sort((a, b) => a.path.localeCompare(b.path)),
      );
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  };
  return [mounts, error, load];
}

export function SecretsPage({ route }: { route: string }) {
  const [mounts, error, reload] = useMounts();
  const rest = decodeURIComponent(route.replace(/^\/secrets\/?/, ''));
  // Engines come and go (here or elsewhere): read the table again on every move within Secrets.
  useEffect(() => {
    void reload();
  }, [route]);
  if (!rest) return <MountsList mounts={mounts} error={error} reload={reload} />;
  if (!mounts) return <ErrorBox error={error} />;
  const mount = mounts.filter((m) => rest.startsWith(m.path) || `${rest}/` === m.path).sort((a, b) => b.path.length - a.path.length)[0];
  if (!mount) return <p role="alert">No secrets engine is mounted at {rest}.</p>;
  if (mount.type !== 'kv') return <p>The browser handles kv mounts; {mount.path} is a {mount.type} engine{mount.type === 'transit' ? <> (see <Link to="/transit">Transit</Link>)</> : null}.</p>;
  const sub = rest.length > mount.path.length ? rest.slice(mount.path.length) : '';
  return <KvBrowser mount={mount} path={sub} />;
}

function MountsList({ mounts, error, reload }: { mounts?: Mount[]; error: unknown; reload: () => Promise<void> }) {
  const [busy, actionError, run] = useAction();
  return (
    <>
      <h1>Secrets engines</h1>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} />
      <div class="table-wrap">
        <table>
          <caption class="sr">Mounted secrets engines</caption>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Type</th>
              <th scope="col">Description</th>
              <th scope="col">Seal wrap</th>
              <th scope="col">External entropy</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(mounts ?? []).map((m) => (
              <tr key={m.path}>
                <td>
                  <Link to={`/secrets/${m.path}`}>{m.path}</Link>
                </td>
                <td>
                  {m.type}
                  {m.type === 'kv' ? ` v${m.options?.version ?? '1'}` : ''}
                </td>
                <td>{m.description}</td>
                <td>{m.seal_wrap ? 'yes' : 'no'}</td>
                <td>{m.external_entropy_access ? 'yes' : 'no'}</td>
                <td>
                  {!['sys/', 'cubbyhole/', 'identity/'].includes(m.path) && (
                    <ConfirmButton
                      label="Disable"
                      danger
                      confirm={`Disable ${m.path}? Every secret stored there is deleted.`}
                      onConfirm={() =>
                        run(async () => {
                          await del(`sys/mounts/${encPath(m.path.replace(/\/$/, ''))}`);
                          await reload();
                        })
                      }
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {busy && <p aria-live="polite">Working…</p>}
      <EnableForm reload={reload} />
    </>
  );
}

function EnableForm({ reload }: { reload: () => Promise<void> }) {
  const [type, setType] = useState('kv-v2');
  const [path, setPath] = useState('');
  const [description, setDescription] = useState('');
  const [sealWrap, setSealWrap] = useState(false);
  const [entropy, setEntropy] = useState(false);
  const [maxVersions, setMaxVersions] = useState('');
  const [busy, error, run] = useAction();
  const [done, setDone] = useState('');
  const pathError = fieldError(error, 'path') ?? (error instanceof ApiError && /path|mount|existing/i.test(error.message) ? error.message : undefined);
  return (
    <Section title="Enable a secrets engine" id="enable">
      <form
        aria-label="Enable a secrets engine"
        onSubmit={(e) => {
          e.preventDefault();
          setDone('');
          void run(async () => {
            const mountPath = (path || type.replace('-v2', '')).replace(/^\/+|\/+$/g, '');
            const body: Record<string, unknown> = { type: type === 'kv-v2' ? 'kv' : type, description, seal_wrap: sealWrap, external_entropy_access: entropy };
            if (type === 'kv-v2') body.options = { version: '2' };
            if (type === 'kv') body.options = { version: '1' };
            await post(`sys/mounts/${encPath(mountPath)}`, body);
            if (type === 'kv-v2' && maxVersions) await post(`${encPath(mountPath)}/config`, { max_versions: Number(maxVersions) });
            setDone(`Enabled ${type} at ${mountPath}/.`);
            setPath('');
            await reload();
          });
        }}
      >
        <Select label="Type" value={type} options={['kv-v2', 'kv', 'transit', 'cubbyhole']} onChange={setType} />
        <Field label="Path" value={path} onInput={setPath} placeholder={type.replace('-v2', '')} error={pathError} />
        <Field label="Description" value={description} onInput={setDescription} />
        {type === 'kv-v2' && <Field label="Max versions (0 = the default, 10)" type="number" min={0} value={maxVersions} onInput={setMaxVersions} />}
        <Check label="Seal wrap (values are also encrypted by the HSM)" checked={sealWrap} onChange={setSealWrap} />
        <Check label="External entropy access (keys from the HSM's random source)" checked={entropy} onChange={setEntropy} />
        {!pathError && <ErrorBox error={error} />}
        {done && <p role="status">{done}</p>}
        <button class="primary" type="submit" disabled={busy}>
          Enable engine
        </button>
      </form>
    </Section>
  );
}

interface Row {
  key: string;
  value: string;
}

function Editor({ initial, onSave, submitLabel }: { initial: Record<string, unknown>; onSave: (data: Record<string, unknown>) => Promise<void>; submitLabel: string }) {
  const toRows = (d: Record<string, unknown>): Row[] => {
    const rows = Object.entries(d).map(([key, v]) => ({ key, value: typeof v === 'string' ? v : JSON.stringify(v) }));
    return rows.length ? rows : [{ key: '', value: '' }];
  };
  const [rows, setRows] = useState<Row[]>(toRows(initial));
  const [json, setJson] = useState(false);
  const [text, setText] = useState(JSON.stringify(initial, null, 2));
  const [localError, setLocalError] = useState<string>();
  const [busy, error, run] = useAction();
  const fromRows = () => Object.fromEntries(rows.filter((r) => r.key !== '').map((r) => [r.key, r.value]));
  const update = (i: number, patch: Partial<Row>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <form
      aria-label="Secret data"
      onSubmit={(e) => {
        e.preventDefault();
        setLocalError(undefined);
        let data: Record<string, unknown>;
        if (json) {
          try {
            data = JSON.parse(text);
            if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error();
          } catch {
            setLocalError('The JSON must be an object of keys and values.');
            return;
          }
        } else data = fromRows();
        void run(() => onSave(data));
      }}
    >
      <Check
        label="JSON mode"
        checked={json}
        onChange={(v) => {
          if (v) setText(JSON.stringify(fromRows(), null, 2));
          else {
            try {
              setRows(toRows(JSON.parse(text)));
            } catch {
              setLocalError('The JSON does not parse; fix it before leaving JSON mode.');
              return;
            }
          }
          setJson(v);
        }}
      />
      {json ? (
        <Field label="Secret data (JSON)" multiline value={text} onInput={setText} error={localError} />
      ) : (
        <fieldset>
          <legend>Keys and values</legend>
          {rows.map((r, i) => (
            <div class="row" key={i}>
              <Field label={`Key ${i + 1}`} value={r.key} onInput={(v) => update(i, { key: v })} />
              <Field label={`Value ${i + 1}`} type="password" value={r.value} onInput={(v) => update(i, { value: v })} />
              <button type="button" class="small" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={`Remove row ${i + 1}`}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="small" onClick={() => setRows([...rows, { key: '', value: '' }])}>
            Add row
          </button>
          {localError && (
            <p class="field-error" role="alert">
              {localError}
            </p>
          )}
        </fieldset>
      )}
      <ErrorBox error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

function KvBrowser({ mount, path }: { mount: Mount; path: string }) {
  const v2 = mount.options?.version === '2';
  const base = mount.path.replace(/\/$/, '');
  const crumbs = path.split('/').filter(Boolean);
  const isFolder = path === '' || path.endsWith('/');
  return (
    <>
      <h1>
        {mount.path} <small>(kv v{v2 ? 2 : 1})</small>
      </h1>
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link to={`/secrets/${mount.path}`}>{mount.path}</Link>
        {crumbs.map((c, i) => {
          const to = crumbs.slice(0, i + 1).join('/') + (i < crumbs.length - 1 || isFolder ? '/' : '');
          return (
            <span key={to}>
              {' / '}
              <Link to={`/secrets/${mount.path}${to}`} current={i === crumbs.length - 1}>
                {c}
              </Link>
            </span>
          );
        })}
      </nav>
      {isFolder ? <Folder base={base} v2={v2} path={path} mountPath={mount.path} /> : <Secret key={path} base={base} v2={v2} path={path} mountPath={mount.path} />}
    </>
  );
}

function Folder({ base, v2, path, mountPath }: { base: string; v2: boolean; path: string; mountPath: string }) {
  const [keys, setKeys] = useState<string[]>();
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState('');
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    listKeys(`${base}/${v2 ? 'metadata/' : ''}${encPath(path)}`).then(setKeys, setError);
  }, [base, path]);
  return (
    <>
      <ErrorBox error={error} />
      {keys && keys.length === 0 && <p>No secrets here yet.</p>}
      <ul class="keys-list" aria-label="Secrets and folders">
        {(keys ?? []).map((k) => (
          <li key={k}>
            <span aria-hidden="true">{k.endsWith('/') ? '📁 ' : '🔑 '}</span>
            <Link to={`/secrets/${mountPath}${path}${k}`}>{k}</Link>
            <span class="sr">{k.endsWith('/') ? ' (folder)' : ' (secret)'}</span>
          </li>
        ))}
      </ul>
      {!creating ? (
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create secret
        </button>
      ) : (
        <Section title="Create secret" id="create-secret">
          <Field label="Path of the new secret" value={name} onInput={setName} placeholder="app/db" required hint={`Under ${mountPath}${path}`} />
          <Editor
            initial={{}}
            submitLabel="Save secret"
            onSave={async (data) => {
              const p = `${path}${name.replace(/^\/+/, '')}`;
              if (!name.trim()) throw new Error('Give the secret a path.');
              if (v2) await post(`${base}/data/${encPath(p)}`, { data });
              else await post(`${base}/${encPath(p)}`, data);
              navigate(`/secrets/${mountPath}${p}`);
            }}
          />
        </Section>
      )}
    </>
  );
}

function Secret({ base, v2, path, mountPath }: { base: string; v2: boolean; path: string; mountPath: string }) {
  const [data, setData] = useState<Record<string, unknown>>();
  const [meta, setMeta] = useState<any>();
  const [current, setCurrent] = useState<any>();
  const [version, setVersion] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState(false);
  const [busy, actionError, run] = useAction();
  const [message, setMessage] = useState('');

  const load = async (v = version) => {
    setError(undefined);
    try {
      if (v2) {
        const m = await get(`${base}/metadata/${encPath(path)}`);
        setMeta(m.data);
        try {
          const r = await get(`${base}/data/${encPath(path)}${v ? `?version=${v}` : ''}`);
          setData(r.data.data ?? {});
          setCurrent(r.data.metadata);
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) {
            setData(undefined);
            setCurrent({ version: v ?? m.data.current_version, missing: true });
          } else throw e;
        }
      } else {
        const r = await get(`${base}/${encPath(path)}`);
        setData(r.data);
      }
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load();
  }, [base, path]);

  const versions: [string, any][] = meta ? Object.entries(meta.versions ?? {}).sort((a, b) => Number(b[0]) - Number(a[0])) : [];
  const shown = current?.version;
  const act = (what: string, fn: () => Promise<unknown>) =>
    run(async () => {
      await fn();
      setMessage(what);
      await load();
    });

  return (
    <>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} />
      {message && (
        <p role="status" class="ok">
          {message}
        </p>
      )}
      <Section title={`Secret ${path}${shown ? ` (version ${shown})` : ''}`} id="secret">
        {current?.missing ? (
          <p role="status" data-testid="version-state">
            Version {current.version} is {meta?.versions?.[current.version]?.destroyed ? 'destroyed' : 'deleted'}.
          </p>
        ) : data && !editing ? (
          <table>
            <caption class="sr">Keys and values</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(data).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <Hidden value={typeof v === 'string' ? v : JSON.stringify(v)} label={`value of ${k}`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {editing ? (
          <Editor
            initial={data ?? {}}
            submitLabel="Save new version"
            onSave={async (d) => {
              if (v2) await post(`${base}/data/${encPath(path)}`, { data: d });
              else await post(`${base}/${encPath(path)}`, d);
              setEditing(false);
              setVersion(undefined);
              setMessage('Saved.');
              await load(undefined);
            }}
          />
        ) : (
          <div class="actions">
            <button type="button" class="primary" onClick={() => setEditing(true)}>
              {v2 ? 'Create new version' : 'Edit'}
            </button>
            {!v2 && <ConfirmButton label="Delete" danger confirm={`Delete ${path}?`} onConfirm={() => run(async () => { await del(`${base}/${encPath(path)}`); navigate(`/secrets/${mountPath}`); })} />}
          </div>
        )}
      </Section>
      {v2 && meta && (
        <Section title="Versions" id="versions">
          <KV
            rows={[
              ['Current version', String(meta.current_version)],
              ['Oldest version', String(meta.oldest_version)],
              ['Max versions', String(meta.max_versions)],
              ['Created', meta.created_time],
              ['Updated', meta.updated_time],
            ]}
          />
          <div class="table-wrap">
            <table>
              <caption class="sr">Versions</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Created</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {versions.map(([v, info]) => {
                  const state = info.destroyed ? 'destroyed' : info.deletion_time ? 'deleted' : 'live';
                  return (
                    <tr key={v} data-version={v}>
                      <td>
                        <button type="button" class="link" aria-label={`Show version ${v}`} onClick={() => { setVersion(Number(v)); void load(Number(v)); }}>
                          {v}
                          {Number(v) === shown ? ' (shown)' : ''}
                        </button>
                      </td>
                      <td>{info.created_time}</td>
                      <td>{state}</td>
                      <td class="actions">
                        {state === 'live' && <button type="button" class="small" onClick={() => act(`Version ${v} deleted.`, () => post(`${base}/delete/${encPath(path)}`, { versions: [Number(v)] }))}>Delete v{v}</button>}
                        {state === 'deleted' && <button type="button" class="small" onClick={() => act(`Version ${v} undeleted.`, () => post(`${base}/undelete/${encPath(path)}`, { versions: [Number(v)] }))}>Undelete v{v}</button>}
                        {state !== 'destroyed' && (
                          <ConfirmButton label={`Destroy v${v}`} danger confirm={`Destroy version ${v} for good?`} onConfirm={() => act(`Version ${v} destroyed.`, () => post(`${base}/destroy/${encPath(path)}`, { versions: [Number(v)] }))} />
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <ConfirmButton
            label="Delete all versions and metadata"
            danger
            confirm={`Delete every version of ${path} and its metadata?`}
            onConfirm={() =>
              run(async () => {
                await del(`${base}/metadata/${encPath(path)}`);
                navigate(`/secrets/${mountPath}${path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : ''}`);
              })
            }
          />
          {busy && <p aria-live="polite">Working…</p>}
        </Section>
      )}
    </>
  );
}

export { put };
