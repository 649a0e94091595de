// Jest globalSetup: starts the shared test servers once per run (see servers.ts).
//
// Jest loads this file through CommonJS require() with its transform but without
// moduleNameMapper, so NodeNext-style `./x.js` imports would not resolve from here. tsx's
// require maps them to the .ts files (global-teardown.ts does the same and, through the
// require cache, gets the same module instance).
import { join } from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';
import type * as Servers from './servers.js';

export default async function globalSetup(_globalConfig: unknown, project: { rootDir: string }): Promise<void> {
  const file = join(project.rootDir, 'test', 'infra', 'servers.ts');
  const servers: typeof Servers = tsxRequire(file, file);
  await servers.startSharedServers();
}
