// ESLint flat config: @eslint/js and typescript-eslint's type-aware
// recommended sets over the TypeScript that tsconfig.json compiles. A rule is
// turned off or tuned here only with its reason beside it. `npm run lint` runs it.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Written by runs (reports/) or by scripts/rule-fixture.ts (the fixtures): not source.
  { ignores: ['reports/', 'cases/rules/fixtures/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The types of tsconfig.json, the program `npm run typecheck` checks.
        projectService: true,
        tsconfigRootDir: dirname(fileURLToPath(import.meta.url)),
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The code compares with === everywhere, null included: keep it so.
      eqeqeq: 'error',
      // Type-only imports are marked `type` inline (import { type Claim, ... }): keep them so.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A leading `_` (and a field set aside by `...rest` destructuring) says
      // "unused on purpose", as scripts/rule-fixture.ts drops fields that way.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  // This file is plain JavaScript outside tsconfig.json: lint it without types.
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
