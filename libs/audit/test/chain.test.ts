import { randomBytes, randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { createKeyRing } from '@portcullis/crypto';
import { migrateLatest } from '@portcullis/migrations';
import {
  createAuditWriter,
  eventHash,
  listChainKeys,
  openDetails,
  verifyChain as verifyChainWith,
  type AuditWriter,
} from '../src/index.js';
import { testPostgres, type TestDatabase } from '../../../test/support/index.js';

let database: TestDatabase;
let db: Knex;
let audit: AuditWriter;
const newKey = () => randomBytes(32).toString('base64');
const oldKeyText = newKey();
const detailsKeys = createKeyRing({ primary: { name: 'AUDIT_DETAILS_ENCRYPTION_KEY', value: oldKeyText } });
/** Verification as production runs it: with the audit key ring. */
const verifyChain = (database: Knex, chain: string, options: { batchSize?: number } = {}) =>
  verifyChainWith(database, chain, { keys: detailsKeys, ...options });

beforeAll(async () => {
  database = await testPostgres();
  db = knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 4 } });
  await migrateLatest(db);
  audit = createAuditWriter({ db, keys: detailsKeys });
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

/** A tenant chain with `count` events; returns the tenant id (its chain key). */
async function chainOf(count: number): Promise<string> {
  const tenantId = randomUUID();
  for (let i = 0; i < count; i++) {
    await audit.record({
      tenantId,
      actorType: 'platform_admin',
      actorId: randomUUID(),
      action: `test.event_${i}`,
      targetType: 'tenant_admin',
      targetId: randomUUID(),
      ip: '10.0.0.1',
      details: { n: i },
    });
  }
  return tenantId;
}

/** Tampering as an attacker with a superuser connection would: triggers switched off for one transaction. */
const tamper = (work: (trx: Knex.Transaction) => Promise<unknown>) =>
  db.transaction(async (trx) => {
    await trx.raw('set local session_replication_role = replica');
    await work(trx);
  });

describe('the audit hash chain', () => {
  it('verifies an intact chain per tenant, events of other tenants included in between', async () => {
    const first = await chainOf(3);
    const second = await chainOf(2);
    await audit.record({ actorType: 'system', action: 'test.platform' });
    await expect(verifyChain(db, first, { batchSize: 2 })).resolves.toEqual({
      chainKey: first,
      ok: true,
      checked: 3,
      headSeq: 3,
      signedHead: true,
    });
    await expect(verifyChain(db, second)).resolves.toMatchObject({ ok: true, checked: 2 });
    expect(await listChainKeys(db)).toEqual(expect.arrayContaining([first, second, 'platform']));
  });

  it('reports a deleted event in the middle as the first break', async () => {
    const tenant = await chainOf(5);
    await tamper((trx) => trx('audit_events').where({ chain_key: tenant, seq: 3 }).del());
    const report = await verifyChain(db, tenant, { batchSize: 2 });
    expect(report).toMatchObject({
      ok: false,
      checked: 2,
      firstBreak: { seq: 3, reason: 'missing_event', eventId: null },
    });
  });

  it('reports an edited event by its hash', async () => {
    const tenant = await chainOf(4);
    await tamper((trx) => trx('audit_events').where({ chain_key: tenant, seq: 2 }).update({ action: 'test.innocent' }));
    expect((await verifyChain(db, tenant)).firstBreak).toMatchObject({ seq: 2, reason: 'hash_mismatch' });
  });

  it('reports an edited event whose hash was recomputed without the key', async () => {
    const tenant = await chainOf(4);
    const row = await db('audit_events').where({ chain_key: tenant, seq: 2 }).first();
    const forged = { ...row, seq: 2, occurred_at: row.occurred_at.toISOString(), action: 'test.innocent' };
    const { id: _id, prev_hash: _prev, hash: _hash, hash_key_id: _keyId, ...fields } = forged;
    await tamper((trx) =>
      trx('audit_events')
        .where({ id: row.id })
        .update({ action: 'test.innocent', hash: eventHash(row.prev_hash, fields) }),
    );
    expect((await verifyChain(db, tenant)).firstBreak).toMatchObject({ seq: 2, reason: 'hash_mismatch' });
  });

  it('reports deleted last events against the chain head', async () => {
    const tenant = await chainOf(3);
    await tamper((trx) => trx('audit_events').where({ chain_key: tenant, seq: 3 }).del());
    expect(await verifyChain(db, tenant)).toMatchObject({
      ok: false,
      checked: 2,
      headSeq: 3,
      firstBreak: { seq: 3, reason: 'missing_event' },
    });
  });

  it('reports an edited detail value', async () => {
    const tenant = await chainOf(3);
    await tamper((trx) =>
      trx('audit_events')
        .where({ chain_key: tenant, seq: 1 })
        .update({ details: JSON.stringify({ n: 42 }) }),
    );
    expect((await verifyChain(db, tenant)).firstBreak).toMatchObject({ seq: 1, reason: 'hash_mismatch' });
  });
});

describe('the keyed chain against someone with database access only', () => {
  /** An event as the writer role could insert it: correct SHA-256 link, no key. */
  async function appendUnkeyed(tenant: string, action: string) {
    const head = await db('audit_chain_heads').where({ chain_key: tenant }).first();
    const seq = Number(head.seq) + 1;
    const fields = {
      chain_key: tenant,
      seq,
      tenant_id: tenant,
      actor_type: 'system',
      actor_id: null,
      action,
      target_type: null,
      target_id: null,
      request_id: null,
      ip: null,
      user_agent: null,
      occurred_at: new Date().toISOString(),
      details: {},
    };
    const hash = eventHash(head.hash, fields);
    await db('audit_events').insert({ ...fields, details: '{}', prev_hash: head.hash, hash });
    await db('audit_chain_heads').where({ chain_key: tenant }).update({ seq, hash });
  }

  it('reports an event forged with a correct SHA-256 link after keyed events', async () => {
    const tenant = await chainOf(3);
    await appendUnkeyed(tenant, 'test.forged');
    expect((await verifyChain(db, tenant)).firstBreak).toMatchObject({ seq: 4, reason: 'unkeyed_after_keyed' });
  });

  it('reports a truncated chain whose head was set back to an earlier event', async () => {
    const tenant = await chainOf(4);
    const third = await db('audit_events').where({ chain_key: tenant, seq: 3 }).first();
    await tamper(async (trx) => {
      await trx('audit_events').where({ chain_key: tenant, seq: 4 }).del();
      await trx('audit_chain_heads').where({ chain_key: tenant }).update({ seq: 3, hash: third.hash });
    });
    expect(await verifyChain(db, tenant)).toMatchObject({
      ok: false,
      checked: 3,
      firstBreak: { reason: 'head_signature_invalid' },
    });
    await tamper((trx) =>
      trx('audit_chain_heads').where({ chain_key: tenant }).update({ mac: null, mac_key_id: null }),
    );
    expect((await verifyChain(db, tenant)).firstBreak).toMatchObject({ reason: 'head_unsigned' });
  });

  it('names the key it lacks instead of calling a keyed chain intact', async () => {
    const tenant = await chainOf(2);
    const report = await verifyChainWith(db, tenant);
    expect(report).toMatchObject({ ok: false, firstBreak: { seq: 1, reason: 'unknown_key' } });
    expect(report.firstBreak!.message).toContain('AUDIT_DETAILS_ENCRYPTION_KEYS_PREVIOUS');
    expect(report.firstBreak!.message).not.toContain(oldKeyText);
  });

  it('rotates: a new primary keys new events, the old key listed as previous still verifies the old ones', async () => {
    const tenant = await chainOf(2);
    const rotated = createKeyRing({
      primary: { name: 'AUDIT_DETAILS_ENCRYPTION_KEY', value: newKey() },
      previous: [{ name: 'AUDIT_DETAILS_ENCRYPTION_KEYS_PREVIOUS (entry 1)', value: oldKeyText }],
    });
    await createAuditWriter({ db, keys: rotated }).record({
      tenantId: tenant,
      actorType: 'system',
      action: 'test.after_rotation',
    });
    const keyIds = (await db('audit_events')
      .where({ chain_key: tenant })
      .orderBy('seq')
      .pluck('hash_key_id')) as string[];
    expect(keyIds).toEqual([detailsKeys.primaryKeyId, detailsKeys.primaryKeyId, rotated.primaryKeyId]);
    expect(await verifyChainWith(db, tenant, { keys: rotated })).toMatchObject({
      ok: true,
      checked: 3,
      signedHead: true,
    });
    const oldKeyDropped = createKeyRing({ primary: { name: 'AUDIT_DETAILS_ENCRYPTION_KEY', value: newKey() } });
    expect((await verifyChainWith(db, tenant, { keys: oldKeyDropped })).firstBreak).toMatchObject({
      seq: 1,
      reason: 'unknown_key',
    });
  });

  it('keeps verifying a chain started before the keys: SHA-256 events, then keyed ones and a signed head', async () => {
    const tenant = randomUUID();
    const plain = createAuditWriter({ db });
    await plain.record({ tenantId: tenant, actorType: 'system', action: 'test.legacy' });
    expect(await verifyChain(db, tenant)).toMatchObject({ ok: true, checked: 1, signedHead: false });
    await audit.record({ tenantId: tenant, actorType: 'system', action: 'test.keyed' });
    expect(await verifyChain(db, tenant)).toMatchObject({ ok: true, checked: 2, signedHead: true });
  });
});

describe('audit_events is append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE even for the owner', async () => {
    const tenant = await chainOf(1);
    await expect(db('audit_events').where({ chain_key: tenant }).update({ action: 'x' })).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(db('audit_events').where({ chain_key: tenant }).del()).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.raw('truncate audit_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect((await verifyChain(db, tenant)).ok).toBe(true);
  });

  it('gives the writer role INSERT and SELECT but no UPDATE or DELETE', async () => {
    const tenant = randomUUID();
    const asWriter = <T>(work: (trx: Knex.Transaction) => Promise<T>) =>
      db.transaction(async (trx) => {
        await trx.raw('set local role portcullis_audit_writer');
        return work(trx);
      });
    await asWriter((trx) => audit.record({ tenantId: tenant, actorType: 'system', action: 'test.as_writer' }, trx));
    const denied = (error: unknown) => (error as { code?: string }).code;
    const update = await asWriter((trx) =>
      trx('audit_events').where({ chain_key: tenant }).update({ action: 'x' }),
    ).catch(denied);
    const remove = await asWriter((trx) => trx('audit_events').where({ chain_key: tenant }).del()).catch(denied);
    const truncate = await asWriter((trx) => trx.raw('truncate audit_events')).catch(denied);
    expect([update, remove, truncate]).toEqual(['42501', '42501', '42501']);
    // Privileges, not only the trigger: the role is denied before any trigger would run.
    const privileges = await db.raw<{ rows: { privilege_type: string }[] }>(
      "select privilege_type from information_schema.role_table_grants where grantee = 'portcullis_audit_writer' and table_name = 'audit_events' order by 1",
    );
    expect(privileges.rows.map((row) => row.privilege_type)).toEqual(['INSERT', 'SELECT']);
  });
});

describe('sealed details', () => {
  it('stores sensitive fields encrypted, bound to their event, and opens them for readers with the key', async () => {
    const tenantId = randomUUID();
    await audit.record({
      tenantId,
      actorType: 'platform_admin',
      action: 'mfa.reset',
      details: { logId: '7' },
      sealed: { reason: 'Lost phone, ticket with ID photo' },
    });
    const row = await db('audit_events').where({ chain_key: tenantId }).first();
    expect(JSON.stringify(row)).not.toContain('Lost phone');
    expect(row.details.sealed.reason).toMatch(/^PCv1/);
    expect(openDetails(detailsKeys, tenantId, row.seq, row.details)).toEqual({
      logId: '7',
      reason: 'Lost phone, ticket with ID photo',
    });
    expect(openDetails(undefined, tenantId, row.seq, row.details)).toEqual({ logId: '7', reason: '[sealed]' });
    // Copied to another event it no longer opens.
    expect(openDetails(detailsKeys, tenantId, Number(row.seq) + 1, row.details).reason).toBe('[sealed]');
    expect((await verifyChain(db, tenantId)).ok).toBe(true);
  });

  it('refuses to write sealed fields without a key rather than store them in clear', async () => {
    const plain = createAuditWriter({ db });
    await expect(plain.record({ actorType: 'system', action: 'test.sealed', sealed: { reason: 'x' } })).rejects.toThrow(
      /AUDIT_DETAILS_ENCRYPTION_KEY/,
    );
  });
});
