// `portcullis audit verify-export FILE`: checks an audit export (the JSON or CSV of
// POST /audit/events/export) without the database. Per chain, in seq order: each event's hash is
// recomputed from its exported fields by libs/audit's own check (keyed events with the audit key
// ring, as verify-chain), each event links to the previous seq's hash, and event 1 to the genesis
// hash. The file's line order is not judged: an export is sorted by time, and seq is what the
// hashes cover.
//
// A gap in seq is a deleted event unless --allow-gaps says the export was filtered by actor or
// action (then the link across the gap is reported as not checkable: the events on either side
// are still checked). An export filtered by tenant or time has no gaps within a chain; its ends
// cannot be checked offline (compare the last seq with `verify-chain`'s head).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  chainedFieldsOfExport,
  checkEventHash,
  GENESIS_HASH,
  readCsv,
  type ChainBreakReason,
  type ExportedChainEvent,
} from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { readKeyRing } from '../env.js';
import type { CliContext } from '../program.js';

export type ExportBreakReason = ChainBreakReason | 'duplicate_event';

export interface ExportChainReport {
  chainKey: string;
  ok: boolean;
  /** Events of this chain in the file. */
  events: number;
  /** Events whose hash and link were checked before the first break (or all of them). */
  checked: number;
  firstSeq: number;
  lastSeq: number;
  /** Missing seqs (--allow-gaps): the link across each is not checkable. */
  notCheckable: { from: number; to: number }[];
  firstBreak?: { seq: number; eventId: string | null; reason: ExportBreakReason; message: string };
}

export interface ExportReport {
  format: 'json' | 'csv';
  events: number;
  chains: number;
  broken: number;
  reports: ExportChainReport[];
}

/** The file is not an audit export (or not one this version reads): a usage error naming what is wrong. */
class NotAnExport extends Error {}

type Kind = 'string' | 'nullable' | 'seq' | 'object' | 'nullableObject';
const FIELDS: Record<keyof ExportedChainEvent, Kind> = {
  id: 'string',
  chain: 'string',
  seq: 'seq',
  tenantId: 'nullable',
  actorType: 'string',
  actorId: 'nullable',
  action: 'string',
  targetType: 'nullable',
  targetId: 'nullable',
  requestId: 'nullable',
  ip: 'nullable',
  userAgent: 'nullable',
  occurredAt: 'string',
  details: 'object',
  storedDetails: 'nullableObject',
  prevHash: 'string',
  hash: 'string',
  hashKeyId: 'nullable',
};
/** Exports made before the export carried the stored details: they read as null (events with sealed details then fail). */
const OPTIONAL = new Set<string>(['storedDetails']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One exported event, checked field by field: `where` names the element or line for the error. */
function eventOf(record: Record<string, unknown>, where: string): ExportedChainEvent {
  const event: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(FIELDS)) {
    const value = record[field] === undefined && OPTIONAL.has(field) ? null : record[field];
    const fits =
      kind === 'string'
        ? typeof value === 'string'
        : kind === 'nullable'
          ? value === null || typeof value === 'string'
          : kind === 'seq'
            ? Number.isSafeInteger(value) && (value as number) >= 1
            : kind === 'object'
              ? isObject(value)
              : value === null || isObject(value);
    if (!fits) throw new NotAnExport(`${where} has no valid ${field}`);
    event[field] = value;
  }
  return event as unknown as ExportedChainEvent;
}

function fromJson(text: string): ExportedChainEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new NotAnExport(`it is not valid JSON (${messageOf(error)})`);
  }
  if (!Array.isArray(parsed)) throw new NotAnExport('it is JSON but not an array of events');
  return parsed.map((element, index) => {
    if (!isObject(element)) throw new NotAnExport(`element ${index} is not an event`);
    return eventOf(element, `element ${index}`);
  });
}

function fromCsv(text: string): ExportedChainEvent[] {
  let rows: (string | null)[][];
  try {
    rows = readCsv(text);
  } catch (error) {
    throw new NotAnExport(`it is not valid CSV (${messageOf(error)})`);
  }
  const header = rows[0] ?? [];
  const missing = Object.keys(FIELDS).filter((field) => !OPTIONAL.has(field) && !header.includes(field));
  if (missing.length > 0)
    throw new NotAnExport(`its first line is not the export's header (no ${missing.slice(0, 3).join(', ')} column)`);
  return rows.slice(1).map((row, index) => {
    const where = `line ${index + 2}`;
    if (row.length !== header.length)
      throw new NotAnExport(`${where} has ${row.length} cells, the header ${header.length}`);
    const record: Record<string, unknown> = {};
    header.forEach((column, at) => {
      const cell = row[at] ?? null;
      const kind = FIELDS[column as keyof ExportedChainEvent];
      if (kind === 'seq') record[column!] = cell !== null && /^\d{1,15}$/.test(cell) ? Number(cell) : cell;
      else if ((kind === 'object' || kind === 'nullableObject') && cell !== null) {
        try {
          record[column!] = JSON.parse(cell);
        } catch {
          throw new NotAnExport(`${where} has no valid ${column}`);
        }
      } else record[column!] = cell;
    });
    return eventOf(record, where);
  });
}

/** The events of an export, JSON or CSV (told apart by the first character: JSON starts with [ or {). */
export function parseExport(text: string): { format: 'json' | 'csv'; events: ExportedChainEvent[] } {
  const body = text.replace(/^\uFEFF/, '');
  return /^\s*[[{]/.test(body) ? { format: 'json', events: fromJson(body) } : { format: 'csv', events: fromCsv(body) };
}

/** One chain's events (sorted by seq here): links, gaps and each hash, up to the first break. */
function checkChain(
  chainKey: string,
  events: ExportedChainEvent[],
  keys: KeyRing | undefined,
  allowGaps: boolean,
): ExportChainReport {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const report: ExportChainReport = {
    chainKey,
    ok: true,
    events: sorted.length,
    checked: 0,
    firstSeq: sorted[0]!.seq,
    lastSeq: sorted.at(-1)!.seq,
    notCheckable: [],
  };
  const broken = (seq: number, eventId: string | null, reason: ExportBreakReason, message: string) => ({
    ...report,
    ok: false,
    firstBreak: { seq, eventId, reason, message },
  });
  let previous: ExportedChainEvent | undefined;
  let keyedSeen = false;
  for (const event of sorted) {
    const { seq, id } = event;
    if (previous && seq === previous.seq)
      return broken(seq, id, 'duplicate_event', `Event ${seq} of chain ${chainKey} appears twice in the file.`);
    if (previous && seq > previous.seq + 1) {
      const gap = { from: previous.seq + 1, to: seq - 1 };
      if (!allowGaps)
        return broken(
          gap.from,
          null,
          'missing_event',
          `Event${gap.to > gap.from ? `s ${gap.from}-${gap.to}` : ` ${gap.from}`} of chain ${chainKey} ${gap.to > gap.from ? 'are' : 'is'} not in the file (deleted; or, if the export was filtered by actor or action, run with --allow-gaps).`,
        );
      report.notCheckable.push(gap);
    } else if (previous && event.prevHash !== previous.hash)
      return broken(
        seq,
        id,
        'prev_hash_mismatch',
        `Event ${seq} does not link to event ${seq - 1} (an event was replaced, moved or edited).`,
      );
    else if (seq === 1 && event.prevHash !== GENESIS_HASH)
      return broken(
        seq,
        id,
        'prev_hash_mismatch',
        `Event 1 of chain ${chainKey} does not start from the genesis hash.`,
      );
    const hashBreak = checkEventHash(
      {
        eventId: id,
        fields: chainedFieldsOfExport(event),
        prevHash: event.prevHash,
        hash: event.hash,
        hashKeyId: event.hashKeyId,
      },
      keyedSeen,
      keys,
    );
    if (hashBreak) return broken(hashBreak.seq, hashBreak.eventId, hashBreak.reason, hashBreak.message);
    keyedSeen ||= !!event.hashKeyId;
    report.checked += 1;
    previous = event;
  }
  return report;
}

/** Checks an export's text; `keys` is the audit key ring (needed for keyed events). Throws NotAnExport. */
export function verifyExportText(
  text: string,
  { keys, allowGaps = false }: { keys: KeyRing | undefined; allowGaps?: boolean },
): ExportReport {
  const { format, events } = parseExport(text);
  const chains = new Map<string, ExportedChainEvent[]>();
  for (const event of events) chains.set(event.chain, [...(chains.get(event.chain) ?? []), event]);
  const reports = [...chains.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([chainKey, chainEvents]) => checkChain(chainKey, chainEvents, keys, allowGaps));
  return {
    format,
    events: events.length,
    chains: reports.length,
    broken: reports.filter((report) => !report.ok).length,
    reports,
  };
}

const line = (report: ExportChainReport) => {
  if (!report.ok)
    return `${report.chainKey}: BROKEN at event ${report.firstBreak!.seq} (${report.firstBreak!.reason}): ${report.firstBreak!.message}`;
  const gaps = report.notCheckable.map((gap) => (gap.to > gap.from ? `${gap.from}-${gap.to}` : String(gap.from)));
  return `${report.chainKey}: ok, ${report.events} events (seq ${report.firstSeq}-${report.lastSeq})${gaps.length > 0 ? `; not in the file, links across them not checkable: ${gaps.join(', ')}` : ''}`;
};

export function registerVerifyExportCommand(audit: Command, context: CliContext): void {
  audit
    .command('verify-export')
    .description(
      "Check an audit export (the JSON or CSV of the audit log's export) offline: each event's hash recomputed (keyed chains need the audit key ring, AUDIT_DETAILS_ENCRYPTION_KEY[S_PREVIOUS]) and its link to the previous seq. Exit 0 = intact, 1 = broken (the chain and seq are named), 2 = not an export or no key ring",
    )
    .argument('<file>', 'the exported file (.json or .csv)')
    .option(
      '--allow-gaps',
      'the export was filtered by actor or action: missing seqs are reported as not checkable instead of deleted',
    )
    .option('--json', 'print the result as one JSON object on stdout (per chain: events, seqs, gaps, first break)')
    .action(async (file: string, flags: { allowGaps?: boolean; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new CliError(`Cannot read ${file} (${messageOf(error)}): name an exported file`, EXIT.usage);
      }
      const keys = readKeyRing(context.env, 'AUDIT_DETAILS_ENCRYPTION_KEY');
      let report: ExportReport;
      try {
        if (!keys) {
          const keyed = parseExport(text).events.find((event) => event.hashKeyId);
          if (keyed)
            throw new CliError(
              `${file} holds keyed events (event ${keyed.seq} of chain ${keyed.chain}, audit key ${keyed.hashKeyId}): set AUDIT_DETAILS_ENCRYPTION_KEY (and _KEYS_PREVIOUS), or SECRETS_SOURCE=aws, to the services' audit key ring to check them`,
              EXIT.usage,
            );
        }
        report = verifyExportText(text, { keys, allowGaps: !!flags.allowGaps });
      } catch (error) {
        if (error instanceof NotAnExport)
          throw new CliError(
            `${file} is not an audit export: ${error.message}. Export it again from the audit log (JSON or CSV)`,
            EXIT.usage,
          );
        throw error;
      }
      if (flags.json) context.stdout.write(`${JSON.stringify({ file, ...report })}\n`);
      else {
        for (const chain of report.reports) context.stdout.write(`${line(chain)}\n`);
        if (report.events === 0) context.stdout.write(`${file}: an export with no events, nothing to check\n`);
      }
      const broken = report.reports.filter((chain) => !chain.ok);
      if (broken.length > 0)
        throw new CliError(
          `${broken.length} of ${report.chains} chains in ${file} are broken (first: ${broken[0]!.chainKey} at event ${broken[0]!.firstBreak!.seq}, ${broken[0]!.firstBreak!.reason}): the file was altered after export, or the log was; run verify-chain on the database and compare (docs/mfa-reset-runbook.md)`,
        );
    });
}
