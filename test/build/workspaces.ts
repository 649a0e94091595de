// The npm workspaces as the build sees them: each package's manifest, the files its tsconfig
// compiles (TypeScript's own config parser) and the packages those files import (TypeScript's
// own import scanner), so the checks below agree with what `tsc -b` and Node will do.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const root = resolve(import.meta.dirname, '..', '..');

export interface PackageJson {
  name: string;
  main?: string;
  bin?: Record<string, string> | string;
  exports?: Record<string, Record<string, string> | string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
}

export interface Workspace {
  /** Relative to the repository root, e.g. `libs/crypto`. */
  dir: string;
  manifest: PackageJson;
  /** Absolute paths of the files its tsconfig.json compiles. */
  files: string[];
  /** Workspace directories its tsconfig.json references (relative to the root). */
  references: string[];
  rootDir: string;
  outDir: string;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The workspace directories named by the root package.json (`libs/*`, `services/*`, `migrations`). */
export function workspaceDirs(): string[] {
  const patterns = readJson<PackageJson>(join(root, 'package.json')).workspaces ?? [];
  return patterns
    .flatMap((pattern) =>
      ts.sys.readDirectory(root, ['package.json'], ['**/node_modules'], [join(pattern, 'package.json')], 3),
    )
    .map((file) => relative(root, dirname(file)))
    .filter((dir) =>
      patterns.some((pattern) => pattern === dir || (pattern.endsWith('/*') && dirname(dir) === pattern.slice(0, -2))),
    )
    .sort();
}

export function parseTsconfig(path: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error(`cannot parse ${path}`);
  return parsed;
}

export function readWorkspace(dir: string): Workspace {
  const absolute = join(root, dir);
  const config = parseTsconfig(join(absolute, 'tsconfig.json'));
  return {
    dir,
    manifest: readJson<PackageJson>(join(absolute, 'package.json')),
    files: config.fileNames,
    references: (config.projectReferences ?? []).map((reference) => relative(root, reference.path)),
    rootDir: config.options.rootDir ?? absolute,
    outDir: config.options.outDir ?? absolute,
  };
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; relative paths and builtins → undefined. */
export function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  if (ts.isExternalModuleNameRelative(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtins.has(name) ? undefined : name;
}

const builtins = new Set(builtinModules);

/** Every package the given files import, statically, dynamically or for types only. */
export function importedPackages(files: readonly string[]): Map<string, string[]> {
  const importers = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      const name = packageNameOf(fileName);
      if (!name) continue;
      importers.set(name, [...(importers.get(name) ?? []), relative(root, file)]);
    }
  }
  return importers;
}

/** A workspace's package name → its directory. */
export function workspacesByName(dirs: readonly string[] = workspaceDirs()): Map<string, string> {
  return new Map(dirs.map((dir) => [readJson<PackageJson>(join(root, dir, 'package.json')).name, dir]));
}

/** Where tsc -b writes the compiled form of a source file of this workspace (`.ts` → `.js`). */
export function compiledPath(workspace: Workspace, sourceFile: string): string {
  const out = join(workspace.outDir, relative(workspace.rootDir, sourceFile));
  return join(dirname(out), `${basename(out, '.ts')}.js`);
}
