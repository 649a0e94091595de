// Where a test run keeps its throwaway servers, and how a crashed run is cleaned up.
//
// Every run (one jest invocation) owns one directory `$TMPDIR/portcullis-test-XXXXXX` holding
// each server's data dir, an `owner` file (pid of the jest process) and `servers.jsonl`, one
// line per server process started by the run (global setup or a test file's dedicated
// server). Teardown kills what is listed and removes the directory; the next run does the
// same for directories whose owner died without tearing down (Ctrl-C, OOM, kill -9).
import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { isAlive, stopPid, type SystemUser } from './process.js';

const RUN_PREFIX = 'portcullis-test-';
export const RUN_DIR_ENV = 'PORTCULLIS_TEST_RUN_DIR';

interface ServerRecord {
  name: string;
  pid: number;
  signal: NodeJS.Signals;
}

/** Creates the run directory; the jest process that calls this owns it. */
export function createRunDir(): string {
  const dir = mkdtempSync(join(tmpdir(), RUN_PREFIX));
  // Servers run as their own system users (postgres, mysql) and must traverse into it.
  chmodSync(dir, 0o711);
  writeFileSync(join(dir, 'owner'), String(process.pid));
  return dir;
}

/** The current run's directory: the one global setup exported, or a new one for this process. */
export function runDir(): string {
  const existing = process.env[RUN_DIR_ENV];
  if (existing) return existing;
  const dir = createRunDir();
  process.env[RUN_DIR_ENV] = dir;
  return dir;
}

/** A fresh directory for one server inside the run directory, owned by the server's user. */
export function serverDir(name: string, owner?: SystemUser): string {
  const dir = mkdtempSync(join(runDir(), `${name}-`));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

/** Appends a started server to the run's state file (O_APPEND: safe across jest workers). */
export function recordServer(record: ServerRecord): void {
  appendFileSync(join(runDir(), 'servers.jsonl'), `${JSON.stringify(record)}\n`);
}

function readRecords(dir: string): ServerRecord[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'servers.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as ServerRecord];
    } catch {
      return []; // empty last line, or a line cut short by a crash
    }
  });
}

/**
 * Whether `pid` is still one of this run's servers. Pids get reused, so a pid alone is not
 * enough: every server runs with its working directory inside the run directory. Where
 * /proc is missing (macOS) we trust the pid only for the live run, never for a stale one.
 */
function belongsToRun(pid: number, dir: string, trustPid: boolean): boolean {
  if (!isAlive(pid)) return false;
  try {
    return `${readlinkSync(`/proc/${pid}/cwd`)}${sep}`.startsWith(`${dir}${sep}`);
  } catch {
    return trustPid;
  }
}

/** Stops every server the run recorded that is still alive, then deletes the run directory. */
export async function cleanRunDir(dir: string, trustPid = true): Promise<void> {
  const live = readRecords(dir).filter((r) => belongsToRun(r.pid, dir, trustPid));
  await Promise.all(live.map((r) => stopPid(r.pid, r.signal)));
  rmSync(dir, { recursive: true, force: true });
}

/** Cleans the directories of earlier runs whose jest process is gone. */
export async function cleanStaleRuns(): Promise<void> {
  const dirs = readdirSync(tmpdir())
    .filter((name) => name.startsWith(RUN_PREFIX))
    .map((name) => join(tmpdir(), name));
  await Promise.all(
    dirs.map(async (dir) => {
      let owner: number;
      try {
        owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
      } catch {
        return; // being created right now, or not ours
      }
      if (owner && !isAlive(owner)) await cleanRunDir(dir, false);
    }),
  );
}
