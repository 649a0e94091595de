// `portcullis audit verify-export FILE` on exports this service made from a real chain: events
// written before the chain was keyed and after, sealed details, values a spreadsheet would run
// as formulas, an empty user agent beside absent ones. The CLI runs as operators run it, a
// process of its own (this service's tests import no other service's files), with the audit key
// ring in its environment and no database.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditWriter } from '@portcullis/audit';
import { createKeyRing } from '@portcullis/crypto';
import { createLogger, createMetrics } from '@portcullis/observability';
import type request from 'supertest';
import { createApp } from '../src/app.js';
import { defaultSettings, SESSION_SECRET } from '../../../test/support/index.js';
import {
  createAdminHarness,
  createTenant,
  json,
  signIn,
  type AdminHarness,
  type Built,
} from '../../../test/support/admin-harness.js';

const root = join(import.meta.dirname, '..', '..', '..');
// Each CLI run is a node + tsx start: seconds on a loaded machine.
const CLI_TEST_MS = 180_000;
const auditKey = randomBytes(32).toString('base64');
const ring = createKeyRing({ primary: { name: 'AUDIT_DETAILS_ENCRYPTION_KEY', value: auditKey } });
const dir = mkdtempSync(join(tmpdir(), 'verify-export-'));

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
let tenantId: string;

interface Exported {
  seq: number;
  action: string;
  actorId: string | null;
  occurredAt: string;
  hash: string;
  userAgent: string | null;
  details: Record<string, unknown>;
  storedDetails: Record<string, unknown> | null;
}

beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build({
    extraApps: (store) => ({
      '/audit': createApp({
        db: h.db,
        store,
        audit: h.audit,
        detailsKeys: ring,
        logger: createLogger({ service: 'audit-log', level: 'silent' }),
        metrics: createMetrics('audit-log'),
        clock: h.clock,
        settings: { ...defaultSettings, secrets: [SESSION_SECRET] },
      }),
    }),
  });
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
  tenantId = (await createTenant(h.db)).id;
  // Events 1-2 from before the chain was keyed (SHA-256 links), 3-5 keyed with the audit key.
  const unkeyed = createAuditWriter({ db: h.db, clock: h.clock });
  const keyed = createAuditWriter({ db: h.db, clock: h.clock, keys: ring });
  const base = { tenantId, actorType: 'tenant_admin' as const, actorId: randomUUID(), ip: '10.0.0.7' };
  await unkeyed.record({ ...base, action: 'auth.sign_in_failed', userAgent: '', details: { reason: '=SUM(A1)' } });
  h.clock.advance(1000);
  await unkeyed.record({
    ...base,
    action: 'auth.logout',
    userAgent: null,
    details: { note: '\'quoted, "twice"\nnext' },
  });
  for (let i = 0; i < 3; i++) {
    h.clock.advance(1000);
    await keyed.record({
      ...base,
      actorType: 'platform_admin',
      action: 'mfa.reset',
      targetType: 'tenant_admin',
      targetId: `-${i}`,
      requestId: randomUUID(),
      userAgent: '@Mozilla/5.0',
      details: { sessionsRevoked: i },
      sealed: { reason: `Lost phone #${i}, "really"`, ticket: '=HYPERLINK("x")' },
    });
  }
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await h.close();
});

async function exportOf(format: 'json' | 'csv'): Promise<string> {
  const response = await operator
    .post('/audit/events/export')
    .set(json)
    .send({ tenant: tenantId, format })
    .buffer(true)
    .parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => done(null, text));
    })
    .expect(200);
  return response.body as string;
}

/** `portcullis audit verify-export <file>` with only `env` set: no database, no key leaking in from this process. */
function verifyExport(
  file: string,
  env: Record<string, string> = { AUDIT_DETAILS_ENCRYPTION_KEY: auditKey },
  ...flags: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--conditions=development',
        '--import',
        'tsx',
        'services/cli/src/main.ts',
        'audit',
        'verify-export',
        file,
        ...flags,
      ],
      { cwd: root, timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        if (typeof code !== 'number') return reject(error ?? new Error('the CLI did not exit'));
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

/** The JSON export with `change` applied to its events (newest first, as exported). */
const edited = (text: string, change: (events: Exported[]) => void) => {
  const events = JSON.parse(text) as Exported[];
  change(events);
  return JSON.stringify(events);
};
const bySeq = (events: Exported[], seq: number) => events.find((event) => event.seq === seq)!;

describe('portcullis audit verify-export', () => {
  it(
    'passes on the JSON and the CSV export of a real chain, sealed details carried as ciphertext only',
    async () => {
      const text = await exportOf('json');
      const events = JSON.parse(text) as Exported[];
      expect(events.map((event) => event.seq)).toEqual([5, 4, 3, 2, 1]);
      expect(events.map((event) => event.userAgent).slice(3)).toEqual([null, '']);
      expect(bySeq(events, 3).details).toMatchObject({ reason: 'Lost phone #0, "really"' });
      expect(JSON.stringify(bySeq(events, 3).storedDetails)).not.toContain('Lost phone');
      expect(bySeq(events, 1).storedDetails).toBeNull();
      const csv = await exportOf('csv');
      // Formula guards on cells that start like formulas, and an empty user agent apart from an absent one.
      expect(csv).toContain(",'-0,");
      expect(csv).toContain(",'@Mozilla/5.0,");
      expect(csv).toContain(',10.0.0.7,"",');

      const [fromJson, fromCsv] = await Promise.all([
        verifyExport(write('ok.json', text)),
        verifyExport(write('ok.csv', csv), undefined, '--json'),
      ]);
      expect(fromJson).toMatchObject({ code: 0, stderr: '', stdout: `${tenantId}: ok, 5 events (seq 1-5)\n` });
      expect(fromCsv.code).toBe(0);
      expect(JSON.parse(fromCsv.stdout)).toMatchObject({
        format: 'csv',
        events: 5,
        broken: 0,
        reports: [{ chainKey: tenantId, ok: true, checked: 5, firstSeq: 1, lastSeq: 5, notCheckable: [] }],
      });
    },
    CLI_TEST_MS,
  );

  it(
    'exits 1 naming the chain and seq of an edited action, actor, time or hash, a deleted event and a reordered pair',
    async () => {
      const text = await exportOf('json');
      const csv = await exportOf('csv');
      const cases: [string, string, number, string][] = [
        [
          'action',
          edited(text, (events) => void (bySeq(events, 4).action = 'mfa.reset_rolled_back')),
          4,
          'hash_mismatch',
        ],
        ['actor', edited(text, (events) => void (bySeq(events, 3).actorId = randomUUID())), 3, 'hash_mismatch'],
        [
          'time',
          edited(text, (events) => void (bySeq(events, 2).occurredAt = '2020-01-01T00:00:00.000Z')),
          2,
          'hash_mismatch',
        ],
        ['hash', edited(text, (events) => void (bySeq(events, 5).hash = '0'.repeat(64))), 5, 'hash_mismatch'],
        [
          'deleted',
          edited(text, (events) => void events.splice(events.indexOf(bySeq(events, 3)), 1)),
          3,
          'missing_event',
        ],
        [
          'reordered',
          edited(text, (events) => {
            // Event 4 claims to come before event 3: their places in the chain swapped.
            [bySeq(events, 3).seq, bySeq(events, 4).seq] = [4, 3];
          }),
          3,
          'prev_hash_mismatch',
        ],
      ];
      const csvEdited = csv.replace('auth.logout', 'auth.login');
      expect(csvEdited).not.toBe(csv);
      const runs = await Promise.all([
        ...cases.map(([name, content]) => verifyExport(write(`${name}.json`, content))),
        verifyExport(write('edited.csv', csvEdited)),
      ]);
      const expected: [number, string][] = [
        ...cases.map(([, , seq, reason]): [number, string] => [seq, reason]),
        [2, 'hash_mismatch'],
      ];
      expected.forEach(([seq, reason], index) => {
        expect(runs[index]).toMatchObject({
          code: 1,
          stdout: expect.stringContaining(`${tenantId}: BROKEN at event ${seq} (${reason})`),
          stderr: expect.stringContaining(`1 of 1 chains in ${dir}`),
        });
        expect(runs[index]!.stderr).toContain(`are broken (first: ${tenantId} at event ${seq}, ${reason})`);
      });
    },
    CLI_TEST_MS,
  );

  it(
    'reads a gap as not checkable with --allow-gaps; a wrong key, no key and a file that is no export are refused',
    async () => {
      const text = await exportOf('json');
      const gap = write(
        'gap.json',
        edited(text, (events) => void events.splice(events.indexOf(bySeq(events, 3)), 1)),
      );
      const [allowed, wrongKey, noKey, notExport, notFound] = await Promise.all([
        verifyExport(gap, undefined, '--allow-gaps'),
        verifyExport(write('wrong-key.json', text), {
          AUDIT_DETAILS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        }),
        verifyExport(write('no-key.json', text), {}),
        verifyExport(join(root, 'package.json')),
        verifyExport(join(dir, 'missing.json')),
      ]);
      expect(allowed).toMatchObject({
        code: 0,
        stdout: `${tenantId}: ok, 4 events (seq 1-5); not in the file, links across them not checkable: 3\n`,
      });
      expect(wrongKey).toMatchObject({ code: 1, stdout: expect.stringContaining(`BROKEN at event 3 (unknown_key)`) });
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toMatch(
        new RegExp(`holds keyed events \\(event [345] of chain ${tenantId}, audit key ${ring.primaryKeyId}\\)`),
      );
      expect(noKey.stderr).toContain('set AUDIT_DETAILS_ENCRYPTION_KEY');
      expect(notExport).toMatchObject({ code: 2, stdout: '' });
      expect(notExport.stderr).toMatch(/package\.json is not an audit export: it is JSON but not an array of events/);
      expect(notFound.code).toBe(2);
      expect(notFound.stderr).toContain('Cannot read');
      for (const run of [allowed, wrongKey, noKey, notExport])
        expect(`${run.stdout}${run.stderr}`).not.toContain(auditKey);
    },
    CLI_TEST_MS,
  );
});
