// Type-aware lint for the server, tests, benchmarks and scripts; plain rules for the browser console.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', 'bench/results/**', 'test/artifacts/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      'no-duplicate-imports': 'error',
      // Loaded on first use only, to keep them out of memory when their feature is off (Sentry without a
      // DSN, the ~150 MB geo database without anomaly detection).
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^@sentry/nestjs$', '^geoip-lite$'] }],
    },
  },
  {
    // Tests read JSON bodies of unknown shape (supertest types them `any`) and assert on them: the unsafe-any
    // family would only ask for casts there. Every other rule, the promise rules first, applies as in src.
    files: ['test/**/*.ts', '**/*.spec.ts', 'src/common/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['console/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_' }] },
  },
  {
    files: ['**/*.{js,cjs}'],
    ignores: ['console/**'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
);
