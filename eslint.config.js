// Flat config shared by every package: TypeScript everywhere, Vue in web/.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import prettierConfig from 'eslint-config-prettier/flat';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.daestro/**', 'web/src/gql/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { disallowTypeAnnotations: false, fixStyle: 'inline-type-imports' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['web/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'vue/multi-word-component-names': 'off' },
  },
  {
    // Tests and benchmarks report what they measured.
    files: ['test/**', '**/test/**', '**/scripts/**'],
    rules: { 'no-console': 'off' },
  },
  // Prettier owns formatting; this turns off the lint rules (Vue's included) that fight it.
  prettierConfig,
  {
    // Decorated entity and GraphQL classes need runtime imports for reflect-metadata.
    files: ['server/src/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
