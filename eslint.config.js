// ESLint keeps the shape the architecture depends on: no import cycles through value imports (import-x skips
// type-only imports; test/architecture.test.ts catches cycles of types too), no console output from the
// daemon's code, and the type-aware checks that catch forgotten promises. Unused files, exports and
// dependencies are knip's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '.cache/**', 'src/http/dashboard/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads only `.js` files unless told otherwise: without these two settings every `.ts` import
      // resolves to a file it then ignores, and no-cycle can never fire (test/lint-cycle.test.ts guards this).
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false }],
      'import-x/no-self-import': 'error',
      'import-x/no-useless-path-segments': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': 'error',
    },
  },
  {
    // Tests, the fake Amber server, scripts and benches are programs of their own: they may print, and
    // JSON read back from a response is typed loosely on purpose.
    files: ['test/**', 'scripts/**', '*.config.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['scripts/**/*.js', '*.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The dashboard is plain browser script: helpers.js, charts.js, battery.js and accuracy.js define the globals app.js reads, uPlot is loaded first.
    files: ['src/http/dashboard/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        ['document', 'window', 'location', 'fetch', 'URL', 'URLSearchParams', 'Intl', 'setTimeout', 'clearTimeout', 'setInterval', 'console', 'uPlot', 'dashboardHelpers', 'dashboardCharts', 'dashboardBattery', 'dashboardAccuracy', 'dashboardBill', 'dashboardCompare'].map((name) => [name, 'readonly']),
      ),
    },
    rules: { '@typescript-eslint/no-unused-vars': 'off', 'no-unused-vars': 'error', 'no-redeclare': 'off' },
  },
);
