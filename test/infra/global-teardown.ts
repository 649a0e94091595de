// Jest globalTeardown: stops every server the run started, by pid, and deletes their data.
// Loaded like global-setup.ts (see there why through tsx).
import { join } from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';
import type * as Servers from './servers.js';

export default async function globalTeardown(_globalConfig: unknown, project: { rootDir: string }): Promise<void> {
  const file = join(project.rootDir, 'test', 'infra', 'servers.ts');
  const servers: typeof Servers = tsxRequire(file, file);
  await servers.stopSharedServers();
}
