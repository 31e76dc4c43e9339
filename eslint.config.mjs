// ESLint (typescript-eslint's recommended rules, without type information so it stays fast);
// formatting is Prettier's (.prettierrc.json). Both run in `npm test` through `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/', 'node_modules/', 'var/', 'models/'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  rules: {
    // `const { a: _a, ...rest } = x` is how a field is left out of a copy
    '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  },
  languageOptions: {
    globals: {
      require: 'readonly',
      __dirname: 'readonly',
      process: 'readonly',
      console: 'readonly',
      Buffer: 'readonly',
      setTimeout: 'readonly',
      clearTimeout: 'readonly',
      setInterval: 'readonly',
      clearInterval: 'readonly',
      setImmediate: 'readonly',
    },
  },
});
