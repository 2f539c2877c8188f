import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

// Import boundaries. no-restricted-imports replaces its options per matching config object
// rather than merging them, so each object below lists every pattern that applies to its files.
const WORKSPACE_PACKAGES = 'api|web|contracts|devstack';
const crossPackagePath = {
  regex: `^(\\.\\./)+((apps|packages)/)?(${WORKSPACE_PACKAGES})/src(/|$)`,
  message: 'Import another workspace package by its name (@simorgh/...), not by a path into its src.',
};
const apiFromWeb = {
  group: ['@simorgh/api', '@simorgh/api/*'],
  message: 'The web app talks to the API over HTTP through @simorgh/contracts, never by importing it.',
};
const devstackInProduction = {
  group: ['@simorgh/devstack', '@simorgh/devstack/*'],
  message: 'The dev stack is for tests, dev and bench only; production code must not import it.',
};
// Inside apps/api/src/features/<f>/, another feature is reached through its service only, or, for
// a Redis script that must write another feature's keys atomically, through the Lua fragments and
// key builders that feature exports in <feature>.scripts.ts.
const featureInternals = [
  {
    regex: '^\\.\\./([^/.]+)/(?!\\1\\.(?:service|scripts)\\.js$)',
    message: 'Features talk through services: import ../<feature>/<feature>.service.js (or its .scripts.js for Lua fragments), not its internals.',
  },
  {
    regex: '^(\\.\\./)+features/([^/.]+)/(?!\\2\\.(?:service|scripts)\\.js$)',
    message: 'Features talk through services: import ../<feature>/<feature>.service.js (or its .scripts.js for Lua fragments), not its internals.',
  },
];
const restrictImports = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const API_TESTS = ['apps/api/src/**/*.test.ts', 'apps/api/src/test/**'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.data/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [
        // Resolves `.js` specifiers to the `.ts` sources and workspace packages to their sources.
        createTypeScriptImportResolver({ conditionNames: ['@simorgh/source', 'types', 'import', 'node', 'default'] }),
      ],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      ...restrictImports(crossPackagePath),
    },
  },
  { files: ['apps/web/**/*.{ts,tsx}'], rules: restrictImports(crossPackagePath, apiFromWeb) },
  { files: ['apps/web/src/**/*.{ts,tsx}'], rules: restrictImports(crossPackagePath, apiFromWeb, devstackInProduction) },
  { files: ['apps/api/src/**/*.ts'], ignores: API_TESTS, rules: restrictImports(crossPackagePath, devstackInProduction) },
  { files: ['apps/api/src/features/**/*.ts'], rules: restrictImports(crossPackagePath, ...featureInternals) },
  {
    files: ['apps/api/src/features/**/*.ts'],
    ignores: API_TESTS,
    rules: restrictImports(crossPackagePath, devstackInProduction, ...featureInternals),
  },
  {
    files: ['apps/web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
);
