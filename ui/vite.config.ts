// The web UI's build (scripts/build.sh runs `vite build --config ui/vite.config.ts`). Preact: a 4 KiB runtime
// with React's component model, so the whole UI stays far below its 150 KiB gzipped budget.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/ui/',
  plugins: [preact()],
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline script may run under the UI's CSP: no polyfill script, no inlined assets.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2020',
  },
});
