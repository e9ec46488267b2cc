import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Top-level folders other than core/ (and adapters/, listed where it is forbidden). */
const everythingButCore = [
  'lambdas',
  'local',
  'bench',
  'lib',
  'bin',
  'cli',
  'stepfunctions',
  'test',
  'examples',
];
/** A relative import that climbs out of its folder into one of `folders`. */
const outside = (folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', 'test/fixtures/syntax-error.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // The dependency rule (docs/architecture.md, "Map"): core imports no SDK and nothing outside core;
  // adapters import core only; lambdas import core and adapters; local/ and bench/ may import anything
  // and nothing deployed imports them.
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', 'aws-lambda', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
              message: 'core/ is pure logic: no AWS SDK, no Lambda types, no CDK (put I/O in adapters/)',
            },
            {
              regex: outside(['adapters', ...everythingButCore]),
              message: 'core/ imports nothing outside core/',
            },
            { group: ['dualread-definitions'], message: 'core/ takes the migration as an argument' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'core/ takes configuration as arguments' },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'inject a clock' }],
    },
  },
  {
    files: ['adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: outside(everythingButCore), message: 'adapters/ import core/ only (and the AWS SDK)' },
            { group: ['dualread-definitions'], message: 'adapters/ take the migration as an argument' },
          ],
        },
      ],
    },
  },
  {
    files: ['lambdas/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: outside(['local', 'bench', 'lib', 'bin', 'cli', 'stepfunctions', 'test', 'examples']),
              message:
                'lambdas/ import core/ and adapters/ only (the definitions come in as dualread-definitions)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'stepfunctions/**/*.ts', 'bin/app.ts', 'examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: outside(['local', 'bench', 'test', 'cli']),
              message: 'nothing deployed imports local/, bench/ or test/',
            },
          ],
        },
      ],
    },
  },
);
