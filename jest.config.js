/** `npm test` runs both projects: unit specs beside the code, e2e against the real app and a real Postgres. */
// Transpile only (no type check in tests; `npm run typecheck` does that): fast, and decorators keep their metadata.
const transform = { '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }] };
// ESM-only packages in our runtime graph: Node 24 can require(esm) but Jest's own module loader cannot, so ts-jest
// compiles them to CommonJS.
const ESM_ONLY = [
  'content-disposition',
  'file-type',
  'strtok3',
  'token-types',
  'uint8array-extras',
  '@tokenizer',
  '@borewit',
];
const transformIgnorePatterns = [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`];

module.exports = {
  maxWorkers: 2,
  testTimeout: 60000,
  reporters: ['<rootDir>/test/setup/summary-reporter.js', 'default'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      slowTestThreshold: 20,
    },
    {
      // Outages, shutdown, hostile input, memory soak: slower, bounded, and part of `npm test` too.
      displayName: 'reliability',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      slowTestThreshold: 60,
    },
  ],
};
