// ESLint (flat config): typescript-eslint's type-checked rules on src/ and test/, the JavaScript
// rules on the scripts and launchers; formatting is prettier's (npm run format), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'fixtures/', 'coverage/', '**/*.d.ts'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `import fs = require('node:fs')` is how the sources bind built-ins (docs/performance.md)
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // control characters in patterns are the point here: the code escapes them (errors.ts,
      // terminal.ts) and refuses them in names (validate.ts, uuid.ts)
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read the CLI's JSON output with JSON.parse (any) and pin it with expect(); typing every
    // parsed value is left for after the merge of the open branches (docs/testing.md, Lint).
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}', 'bin/mdevctl', 'bin/lsmdev'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  prettier,
);
