// CPU seconds a step of `npm run bench -- mfa-logs` costs, beside its wall time: on a shared
// machine the wall ratio moves with the load of the minutes each step ran in, CPU per row much
// less. Read from /proc (Linux; null elsewhere): the children this process has reaped (a job's
// processes and its shards, or the floor's) and the bench's own PostgreSQL (the postmaster, its
// reaped backends and workers, and those still alive).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const HZ = 100;

/** Fields of /proc/<pid>/stat after the command name (field 3 onwards); undefined when gone. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const ticks = (fields: string[], ...indexes: number[]) =>
  indexes.reduce((sum, index) => sum + Number(fields[index]), 0);

/** CPU of every child this process has waited for (utime + stime of the reaped children). */
export function reapedChildrenCpuSeconds(): number | null {
  const fields = statFields('self');
  return fields ? ticks(fields, 13, 14) / HZ : null;
}

/** The parent pid of a process, e.g. a PostgreSQL backend's postmaster. */
export function parentPid(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : null;
}

/** CPU of a process, of its reaped children and of its live children. */
export function processTreeCpuSeconds(pid: number): number | null {
  const own = statFields(pid);
  if (!own) return null;
  let total = ticks(own, 11, 12, 13, 14);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) total += ticks(fields, 11, 12);
  }
  return total / HZ;
}
