import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import type { Figure } from '../report.ts';
import { compareWithBareHttp } from './http-compare.ts';

/**
 * `GET /ui/` (index.html with the CSP and framing headers) and the UI's script, against bare node http answering
 * a body of the same size: what serving the web UI costs beside the API on the same event loop.
 */
export async function benchUi(server: TestServer, loop: LoopOptions): Promise<Figure[]> {
  const index = await fetch(`${server.api.addr}/ui/`);
  if (index.status !== 200) throw new Error(`GET /ui/: ${index.status} (is the UI built? ./scripts/build.sh)`);
  const html = await index.text();
  const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  if (!script) throw new Error('GET /ui/: no script in index.html');
  const js = await (await fetch(`${server.api.addr}${script}`)).text();
  return [
    await compareWithBareHttp('ui.index', 'GET /ui/ (index.html)', loop, server.api.addr, () => ({ method: 'GET', path: '/ui/' }), html),
    await compareWithBareHttp('ui.script', `GET ${script.replace(/-[^.]+\.js$/, '-*.js')} (${(js.length / 1024).toFixed(0)} KiB)`, loop, server.api.addr, () => ({ method: 'GET', path: script }), js),
  ];
}
