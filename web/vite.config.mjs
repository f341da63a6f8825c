// One Vite build per page (PAGE=portal or PAGE=console): each is served by
// hookd under /<page>/ with its hashed files in /<page>/assets/ (src/http/static.c).
import { defineConfig } from 'vite';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const page = process.env.PAGE;
if (page !== 'portal' && page !== 'console') throw new Error('set PAGE=portal or PAGE=console');

export default defineConfig({
    root: path.join(here, page),
    base: `/${page}/`,
    publicDir: false,
    logLevel: 'warn',
    esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
    build: {
        outDir: path.join(here, '..', 'build', 'web', page),
        emptyOutDir: true,
        assetsDir: 'assets',
        modulePreload: { polyfill: false },
        target: 'es2020',
    },
});
