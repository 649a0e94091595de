// Every package builds on its own: its tsconfig references exactly the workspace packages its
// compiled files import, its package.json declares them, and its exports point at what tsc -b
// writes. (Undeclared third-party imports are caught by lint: import-x/no-extraneous-dependencies.)
import { join, relative } from 'node:path';
import {
  compiledPath,
  importedPackages,
  parseTsconfig,
  readWorkspace,
  root,
  workspaceDirs,
  workspacesByName,
} from './workspaces.js';

const dirs = workspaceDirs();
const byName = workspacesByName(dirs);
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

it('finds every workspace the root package.json names', () => {
  expect(dirs).toEqual(
    expect.arrayContaining(['libs/crypto', 'libs/session-auth', 'services/auth-session', 'services/cli', 'migrations']),
  );
});

it('the root tsconfig.json builds every workspace', () => {
  const references = (parseTsconfig(join(root, 'tsconfig.json')).projectReferences ?? []).map((reference) =>
    relative(root, reference.path),
  );
  expect(sorted(references)).toEqual(dirs);
});

describe.each(dirs)('%s', (dir) => {
  const workspace = readWorkspace(dir);
  const imports = importedPackages(workspace.files);
  const importedWorkspaces = sorted(
    [...imports.keys()].filter((name) => byName.has(name) && name !== workspace.manifest.name),
  );

  it('compiles some files', () => {
    expect(workspace.files.length).toBeGreaterThan(0);
  });

  it('its tsconfig.json references exactly the workspace packages it imports', () => {
    expect({ dir, references: sorted(workspace.references) }).toEqual({
      dir,
      references: sorted(importedWorkspaces.map((name) => byName.get(name)!)),
    });
  });

  it('its package.json dependencies name exactly the workspace packages it imports', () => {
    const declared = Object.keys(workspace.manifest.dependencies ?? {}).filter((name) => byName.has(name));
    expect({ dir, dependencies: sorted(declared) }).toEqual({ dir, dependencies: importedWorkspaces });
  });

  // A service nobody imports has no exports; what it runs is its dist/main.js (dockerfile.test.ts).
  it('its exports and bin point at files tsc -b writes', () => {
    const entries = Object.values(workspace.manifest.exports ?? {}).map((conditions) => {
      if (typeof conditions === 'string') throw new Error(`${dir}: exports without a development condition`);
      return conditions;
    });
    for (const conditions of entries) {
      const source = join(root, dir, conditions.development!);
      expect(workspace.files).toContain(source);
      const compiled = compiledPath(workspace, source);
      expect(join(root, dir, conditions.default!)).toBe(compiled);
      expect(join(root, dir, conditions.types!)).toBe(compiled.replace(/\.js$/, '.d.ts'));
    }
    const bins =
      typeof workspace.manifest.bin === 'string'
        ? [workspace.manifest.bin]
        : Object.values(workspace.manifest.bin ?? {});
    for (const bin of bins) {
      const compiled = join(root, dir, bin);
      expect(workspace.files.map((file) => compiledPath(workspace, file))).toContain(compiled);
    }
  });
});
