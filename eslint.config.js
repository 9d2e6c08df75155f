// Type-aware lint (`npm run lint`), run by .ci/run before the tests.
// Only rules that need type information and catch real bugs: a promise that is
// neither awaited nor handled (an unhandled rejection crashes the process, or a
// failure goes unseen), and a promise where a plain value is expected (an async
// callback to an API that ignores what it returns, a promise in a condition).
// Rule docs: https://typescript-eslint.io/rules/no-floating-promises and
// https://typescript-eslint.io/rules/no-misused-promises
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tap/**', 'coverage/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      // The project's tsconfig.json (harness, suites, reference-server, test, bench, bin).
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    // Directives written for rules outside this narrow set (e.g. `no-control-regex`) are kept, not reported.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      // `void p` marks a deliberately detached promise (fire and forget, errors handled inside).
      // tap's `t.test(…)` returns a promise that never rejects (a failing subtest is a failed assertion)
      // and tap queues subtests itself: leaving it unawaited is tap's documented style.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { ignoreVoid: true, allowForKnownSafeCalls: [{ from: 'package', package: '@tapjs/test', name: 'test' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
