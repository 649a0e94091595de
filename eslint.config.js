import { existsSync, readdirSync, readFileSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import prettierConfig from 'eslint-config-prettier';

// The workspaces (libs/*, services/*, migrations) as directories, from the root package.json.
const workspaces = ['libs', 'services']
  .flatMap((parent) => readdirSync(parent).map((name) => `${parent}/${name}`))
  .concat('migrations')
  .filter((dir) => existsSync(`${dir}/package.json`));
const workspaceNames = workspaces.map((dir) => JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')).name);

// What a package ships (compiled into dist/, run by the image) and so may import only from its
// own package.json "dependencies": the image installs production dependencies only, without the
// workspace root's hoisting to hide an undeclared one.
const shipped = ['libs/*/src/**/*.ts', 'services/*/src/**/*.ts', 'migrations/*.ts', 'migrations/runner/**/*.ts'];
const testsOf = (dir) => [
  `${dir}/test/**/*.ts`,
  `${dir}/src/**/*.test.ts`,
  ...(dir === 'migrations' ? ['migrations/**/*.test.ts'] : []),
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.object.name=/^(describe|it|test)$/][callee.property.name=/^(only|skip|todo)$/]',
          message: 'No focused, skipped or todo tests.',
        },
        {
          selector: 'CallExpression[callee.name=/^(xit|xdescribe|fit|fdescribe|xtest)$/]',
          message: 'No focused or skipped tests.',
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Workspace packages resolve to their TypeScript source (the "development" condition, as
      // in jest and tsc), so the check needs no build; .js specifiers find their .ts files.
      'import-x/resolver-next': [
        createNodeResolver({
          conditionNames: ['development', 'types', 'import', 'default'],
          extensions: ['.ts', '.d.ts', '.js', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
  },
  {
    files: shipped,
    ignores: ['**/*.test.ts'],
    rules: {
      // includeInternal: @portcullis/* resolve to libs/, outside node_modules, and count too.
      // includeTypes: a type-only import is also a reference tsc -b and the .d.ts files need.
      'import-x/no-extraneous-dependencies': [
        'error',
        {
          devDependencies: false,
          optionalDependencies: false,
          peerDependencies: false,
          includeInternal: true,
          includeTypes: true,
        },
      ],
    },
  },
  // Tests run from the root: their own package's dependencies plus the root's dev dependencies.
  ...workspaces.map((dir) => ({
    files: testsOf(dir),
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        {
          packageDir: ['.', dir],
          includeInternal: true,
          includeTypes: true,
        },
      ],
    },
  })),
  // Root-level code: the root's dev dependencies and the workspaces it is the root of.
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        {
          packageDir: ['.'],
          includeInternal: true,
          includeTypes: true,
          whitelist: workspaceNames,
        },
      ],
    },
  },
  // Layout is prettier's (npm test runs `prettier --check`): no lint rule argues with it.
  prettierConfig,
);
