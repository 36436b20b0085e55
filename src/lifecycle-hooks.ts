/**
 * Process-wide hooks for the server's signals: `onShutdown` functions run on
 * SIGTERM/SIGINT after the listener has drained and before the core seals
 * (an audit broker flushes here); `onReload` functions run on SIGHUP after
 * the log level was re-read (an audit file device reopens here). Each returns
 * its unregister function. A failing hook is logged and does not stop the others.
 */
type Hook = () => void | Promise<void>;

const shutdownHooks = new Set<Hook>();
const reloadHooks = new Set<Hook>();

export function onShutdown(fn: Hook): () => void {
  shutdownHooks.add(fn);
  return () => shutdownHooks.delete(fn);
}

export function onReload(fn: Hook): () => void {
  reloadHooks.add(fn);
  return () => reloadHooks.delete(fn);
}

async function runAll(hooks: Set<Hook>, what: string, warn: (msg: string) => void): Promise<void> {
  for (const fn of [...hooks]) {
    try {
      await fn();
    } catch (err) {
      warn(`server: a ${what} hook failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

export const runShutdownHooks = (warn: (msg: string) => void) => runAll(shutdownHooks, 'shutdown', warn);
export const runReloadHooks = (warn: (msg: string) => void) => runAll(reloadHooks, 'reload', warn);
