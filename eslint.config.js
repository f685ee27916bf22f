// Lint configuration. The purity rule for src/raft is the important part: the consensus core must be
// replayable from (seed, inputs), so it may not touch I/O, real time or ambient randomness.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureSyntax = [
  { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'The core takes randomness from the injected PRNG.' },
  { selector: "NewExpression[callee.name='Date']", message: 'The core has no clock; time is a logical tick.' },
  { selector: "MemberExpression[object.name='Date']", message: 'The core has no clock; time is a logical tick.' },
  { selector: "CallExpression[callee.name=/^(setTimeout|setInterval|setImmediate|queueMicrotask)$/]", message: 'The core has no timers; the driver calls tick().' },
  { selector: "MemberExpression[object.name=/^(process|performance|globalThis)$/]", message: 'The core does not reach the runtime.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'eqeqeq': ['error', 'always'],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/raft/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'net', 'os', 'crypto', 'timers', '../*/**', '../../*'], message: 'src/raft is pure: it imports only from src/raft.' }] }],
      'no-restricted-syntax': ['error', ...impureSyntax],
    },
  },
);
