// Flat config: typescript-eslint's recommended rules plus the layout rules of docs/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { layoutRule } from './eslint/layout.js';

export default tseslint.config(
  { ignores: ['build/', 'native/build/', 'node_modules/', 'dist/', 'src-renderer/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `any` needs a comment saying why; the disable comment is where that goes.
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Electron is imported only by the app; the engine runs headless under plain Node.
    files: [
      'src-main/engine/**',
      'src-main/cli/**',
      'src-main/shared/**',
      'src-main/app/**',
      'test/**',
      'bench/**',
      'src-renderer/**',
    ],
    // main.ts and preload.cts are the app's Electron project (tsconfig.app.json).
    ignores: ['src-main/app/main.ts', 'src-main/app/preload.cts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'electron may only be imported by src-main/app/main.ts and preload.cts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Which folder may import which: the table in eslint/layout.js (docs/architecture.md, "Layout").
    files: ['src-main/**', 'src-renderer/**'],
    plugins: { clatbar: { rules: { layout: layoutRule } } },
    rules: { 'clatbar/layout': 'error' },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The soak's packet checker must share no code with the translator it checks (issue 16).
    files: ['test/soak/checker.ts', 'test/soak/inet.ts', 'test/soak/packets.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/siit/**', '**/engine/ip/**'],
              message: 'the soak checker is independent of the translator: write it here.',
            },
          ],
        },
      ],
    },
  },
);
