import { defineConfig } from 'vite';

// Preact's automatic JSX runtime through Vite's own transformer (oxc): no framework plugin needed.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small bundle: the size budget (200 KB gzipped) is checked by scripts/check-size.mjs.
    sourcemap: false,
    target: 'es2022',
  },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
});
