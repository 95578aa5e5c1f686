import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The SPA is built into plugins/ui/web-dist, which the plugin serves at /. Assets are named by
// content hash (served immutable); no inline script or style (the CSP forbids them).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../web-dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
