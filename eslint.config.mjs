// ESLint 9 flat config (`npm run lint`, part of `npm run check` and `npm test`): ESLint's and typescript-eslint's
// recommended rules without type information (fast: no program is built; `tsc --noEmit` checks the types).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['out/**', 'dist/**', 'test-host/**', 'node_modules/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `{ shard: _shard, ...base } = manifest` is how the code drops keys from a copy
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `ok ? resolve(x) : reject(e)` as a statement, in callbacks that settle a promise either way
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
    },
  },
  {
    // the bundled sources and tests run on Node (the webview's globals are the DOM lib's, checked by tsc)
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // CommonJS on purpose: the activation probe is loaded unbundled by the extension host (bench/activation-probe.cjs)
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // the probe takes `performance` from perf_hooks by name: the same object as the global it shadows
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
  {
    // the browser-side halves of the webview and workbench suites: functions passed to Playwright's page.evaluate
    files: ['test/webview/**/*.mjs', 'test/workbench/**/*.mjs', 'scripts/screenshots.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // tests walk untyped JSON (schemas, reports, run files) and say so with `any` rather than casts at every step
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
