import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { ApiError, get, getToken, setToken } from './api.ts';
import { StartPage, LoginPage } from './start.tsx';
import { StatusPage } from './status.tsx';
import { SecretsPage } from './secrets.tsx';
import { TransitPage } from './transit.tsx';
import { PoliciesPage, TokensPage, OperatorPage } from './admin.tsx';

export interface SealStatus {
  type: string;
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
  version: string;
  cluster_name?: string;
  cluster_id?: string;
  recovery_seal?: boolean;
  storage_type?: string;
}

const BASE = '/ui';

export function navigate(to: string): void {
  history.pushState(null, '', `${BASE}${to}`);
  dispatchEvent(new PopStateEvent('popstate'));
}

function currentRoute(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return p === '' || p === '/' ? '/status' : p;
}

export function Link({ to, children, current }: { to: string; children: preact.ComponentChildren; current?: boolean }) {
  return (
    <a
      href={`${BASE}${to}`}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

const NAV: [string, string][] = [
  ['/status', 'Status'],
  ['/secrets', 'Secrets'],
  ['/transit', 'Transit'],
  ['/policies', 'Policies'],
  ['/tokens', 'Tokens'],
  ['/operator', 'Operator'],
];

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [seal, setSeal] = useState<SealStatus | undefined>();
  const [sealError, setSealError] = useState<unknown>();
  const [token, setTok] = useState(getToken());

  const [hsm, setHsm] = useState<{ healthy: boolean; unhealthy_since?: string } | undefined>();
  const refreshSeal = async () => {
    try {
      const s = await get<SealStatus>('sys/seal-status');
      setSeal(s);
      setSealError(undefined);
      // The HSM's health on every page, not only on Status (unauthenticated, as in Vault).
      if (s.type === 'pkcs11' || s.recovery_seal) setHsm(await get('sys/seal-backend-status').catch(() => undefined));
    } catch (e) {
      setSealError(e);
    }
  };
  useEffect(() => {
    const onPop = () => setRoute(currentRoute());
    addEventListener('popstate', onPop);
    void refreshSeal();
    const timer = setInterval(refreshSeal, 5000);
    return () => {
      removeEventListener('popstate', onPop);
      clearInterval(timer);
    };
  }, []);
  useEffect(() => {
    document.title = `Tresor · ${NAV.find(([p]) => route.startsWith(p))?.[1] ?? 'Start'}`;
  }, [route]);

  const signIn = (t: string) => {
    setToken(t);
    setTok(t);
    navigate('/status');
  };
  const signOut = () => {
    setToken(null);
    setTok(null);
  };
  // A token the server no longer knows: forget it.
  useEffect(() => {
    if (!token || !seal || seal.sealed) return;
    get('auth/token/lookup-self').catch((e) => {
      if (e instanceof ApiError && e.status === 403) signOut();
    });
  }, [token, seal?.sealed]);

  let page;
  if (!seal) {
    page = sealError ? <p role="alert">Cannot reach the server: {(sealError as Error).message}</p> : <p aria-live="polite">Loading…</p>;
  } else if (!seal.initialized || seal.sealed) {
    page = <StartPage seal={seal} onChange={refreshSeal} onToken={signIn} />;
  } else if (!token) {
    page = <LoginPage onToken={signIn} />;
  } else if (route.startsWith('/secrets')) page = <SecretsPage route={route} />;
  else if (route.startsWith('/transit')) page = <TransitPage route={route} />;
  else if (route.startsWith('/policies')) page = <PoliciesPage route={route} />;
  else if (route.startsWith('/tokens')) page = <TokensPage />;
  else if (route.startsWith('/operator')) page = <OperatorPage seal={seal} onChange={refreshSeal} />;
  else page = <StatusPage seal={seal} />;

  const signedIn = Boolean(seal && seal.initialized && !seal.sealed && token);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tresor</span>
        {seal && (
          <span class={`pill ${seal.sealed || !seal.initialized ? 'bad' : 'good'}`} role="status" aria-live="polite">
            <span aria-hidden="true">{seal.sealed || !seal.initialized ? '🔒 ' : '✓ '}</span>
            {!seal.initialized ? 'Not initialised' : seal.sealed ? 'Sealed' : 'Unsealed'}
          </span>
        )}
        {signedIn && (
          <nav aria-label="Main">
            <ul>
              {NAV.map(([p, label]) => (
                <li key={p}>
                  <Link to={p} current={route.startsWith(p)}>
                    {label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {signedIn && (
          <button type="button" class="small" onClick={signOut}>
            Sign out
          </button>
        )}
      </header>
      {seal?.sealed && seal.initialized && (
        <div class="banner bad" role="alert">
          <strong>SEALED.</strong> Tresor cannot serve secrets until it is unsealed.
        </div>
      )}
      {hsm && !hsm.healthy && (
        <div class="banner bad" role="alert">
          <strong>HSM unhealthy</strong>
          {hsm.unhealthy_since ? ` since ${new Date(hsm.unhealthy_since).toLocaleString()}` : ''}: the seal cannot reach its token; Tresor keeps serving
          with the keys it holds, but cannot unseal or seal-wrap until the HSM answers.
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

// index.html carries a static shell so the first paint does not wait for this script; replace it.
const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
