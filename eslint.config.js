import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // exactOptionalPropertyTypes is off: an optional field is written as `x: value` (undefined when
    // absent), not `...(value ? { x: value } : {})`. What goes on a wire drops undefined fields in
    // one place, src/net/defined-fields.ts.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'SpreadElement > ConditionalExpression > ObjectExpression[properties.length=0]',
          message: 'write the optional field as `x: cond ? value : undefined`; definedFields() where it goes on a wire',
        },
      ],
    },
  },
);
