// `portcullis sessions create-table` on a separate PostgreSQL database and on MariaDB, checked by
// the same shape checks `sessions preflight` runs; `sessions capacity-plan` figures, applied to a
// table on the DynamoDB API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '@portcullis/config';
import { checkSessionStore, createDynamoClient } from '@portcullis/session-store';
import { testMysql, testPostgres, type TestDatabase } from '../../../test/support/index.js';
import type { capacityPlan } from '../src/commands/sessions-capacity.js';
import { cli, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let sessionPg: TestDatabase;
let sessionMysql: TestDatabase;

beforeAll(async () => {
  [setup, sessionPg, sessionMysql] = await Promise.all([testEnvironment(), testPostgres(), testMysql()]);
});
afterAll(async () => {
  await Promise.all([setup.db.drop(), sessionPg.drop(), sessionMysql.drop()]);
});

const failedChecks = async (env: Record<string, string>) =>
  (await checkSessionStore('knex', loadConfig({ ...env, SESSION_STORE_DRIVER: 'knex' }))).filter((check) => !check.ok);

describe('sessions create-table', () => {
  it.each([
    [
      'PostgreSQL (a separate SESSION_DATABASE_URL)',
      () => ({ SESSION_DATABASE_URL: sessionPg.url, SESSION_KNEX_CLIENT: 'pg' }),
    ],
    ['MariaDB', () => ({ SESSION_DATABASE_URL: sessionMysql.url, SESSION_KNEX_CLIENT: 'mysql2' })],
  ])(
    'creates the table the knex store expects on %s, and a second run changes nothing',
    async (_name, extra) => {
      const env = { ...setup.env, ...extra(), SESSION_TABLE_NAME: 'admin_sessions' };
      expect(await failedChecks(env)).toEqual([expect.objectContaining({ name: 'knex table' })]);

      const first = await cli(env, 'sessions', 'create-table');
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(
        /^Created table "admin_sessions" with its indexes in 127\.0\.0\.1:\d+\/t_\w+ \((pg|mysql2)\)\.\n$/,
      );
      // Columns, primary key, both indexes and a probe session round trip, as preflight checks them.
      expect(await failedChecks(env)).toEqual([]);

      const again = await cli(env, 'sessions', 'create-table');
      expect(again).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^Table "admin_sessions" already exists in .*; nothing changed\./),
      });
    },
    30_000,
  );

  it("prints each dialect's DDL without a database", async () => {
    const pg = await cli({ SESSION_KNEX_CLIENT: 'pg' }, 'sessions', 'create-table', '--print');
    expect(pg.code).toBe(0);
    expect(pg.stdout).toContain('create table "sessions" ("hash" char(64) collate "C"');
    expect(pg.stdout).toContain('create index "sessions_expires_at_idx" on "sessions" ("expires_at");');
    const mysql = await cli(
      { SESSION_KNEX_CLIENT: 'mysql2', SESSION_TABLE_NAME: 's2' },
      'sessions',
      'create-table',
      '--print',
    );
    expect(mysql.code).toBe(0);
    expect(mysql.stdout).toContain('`data` mediumtext not null');
    expect(mysql.stdout).toContain('default character set utf8mb4');
  });

  it('refuses a URL of the other dialect, and MySQL without SESSION_DATABASE_URL, naming the variable', async () => {
    const mismatch = await cli(
      { ...setup.env, SESSION_KNEX_CLIENT: 'mysql2', SESSION_DATABASE_URL: sessionPg.url },
      'sessions',
      'create-table',
    );
    expect(mismatch).toMatchObject({ code: 2, stdout: '' });
    expect(mismatch.stderr).toBe(
      'portcullis: SESSION_KNEX_CLIENT is mysql2 but the session database URL is postgres://…: set SESSION_KNEX_CLIENT to pg or fix the URL.\n',
    );
    const missing = await cli({ ...setup.env, SESSION_KNEX_CLIENT: 'mysql2' }, 'sessions', 'create-table');
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('SESSION_DATABASE_URL is required with SESSION_KNEX_CLIENT=mysql2'),
    });
    expect(missing.stderr).not.toContain(setup.db.url);
  });

  it('has --help', async () => {
    const { code, stdout } = await cli({}, 'sessions', 'create-table', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('--print');
  });
});

describe('sessions capacity-plan', () => {
  const args = [
    'sessions',
    'capacity-plan',
    '--sign-ins-per-s',
    '5',
    '--requests-per-s',
    '200',
    '--sessions',
    '1000000',
    '--json',
  ];

  it('prices reads by item size and ConsistentRead, and writes by the KB', async () => {
    const { code, stdout } = await cli({}, ...args, '--item-bytes', '5000', '--pods', '6');
    expect(code).toBe(0);
    const plan = JSON.parse(stdout) as ReturnType<typeof capacityPlan>;
    // 5,000 B: 2 units of 4 KB per consistent read, 5 WCU per write; the marker is 1 RCU more.
    expect(plan.factors).toEqual({ consistent_read_factor: 1, read_units_per_item: 2, write_units_per_item: 5 });
    expect(plan.per_operation.request).toEqual({ rcu: 3, wcu: 5 });
    // Sign-in: Query of 5 keys (0.5) + 5 consistent GetItems (10); 3 item writes + 1 index write.
    expect(plan.per_operation.sign_in).toEqual({ rcu: 10.5, wcu: 16 });
    // 1M sessions is above the exact-count threshold: each pod scans one 100-item page a minute,
    // 500,000 B read = 123 units of 4 KB, halved (eventually consistent): 6 × 61.5 / 60.
    expect(plan.per_operation.item_counter_rcu_per_s).toBe(6.15);
    // The byUser index: the sign-in's Query (0.5) and two entries written or removed per sign-in.
    expect(plan.peak).toEqual({ rcu: 200 * 3 + 5 * 10.5 + 6.15, wcu: 200 * 5 + 5 * 16, index_rcu: 2.5, index_wcu: 10 });
    expect(plan.provisioned).toMatchObject({ rcu: Math.ceil(658.65 / 0.7), wcu: Math.ceil(1080 / 0.7) });

    const eventual = JSON.parse(
      (await cli({ DYNAMODB_CONSISTENT_READ: 'false' }, ...args, '--item-bytes', '5000', '--pods', '6')).stdout,
    ) as typeof plan;
    expect(eventual.factors.consistent_read_factor).toBe(0.5);
    expect(eventual.per_operation.sign_in.rcu).toBe(5.5);
    // The request path's BatchGetItem stays consistent whatever DYNAMODB_CONSISTENT_READ says.
    expect(eventual.per_operation.request.rcu).toBe(3);
  });

  it("counts the exact item counter's scans below its threshold", async () => {
    const small = JSON.parse(
      (
        await cli(
          {},
          'sessions',
          'capacity-plan',
          '--sign-ins-per-s',
          '1',
          '--requests-per-s',
          '10',
          '--sessions',
          '90000',
          '--pods',
          '6',
          '--json',
        )
      ).stdout,
    ) as { per_operation: { item_counter_rcu_per_s: number } };
    // 6 pods × (90,000 items of 1 KB / 4 KB × 0.5 = 11,250 RCU) every 60 s: the docs' ~25k RCU a minute per pod near the threshold.
    expect(small.per_operation.item_counter_rcu_per_s).toBe(1125);
  });

  it('prints settings that create a provisioned table on the DynamoDB API', async () => {
    const plan = JSON.parse((await cli({}, ...args)).stdout) as {
      provisioned: { rcu: number; wcu: number; env: Record<string, string> };
    };
    const env = { ...setup.env, ...plan.provisioned.env, DYNAMODB_SESSION_TABLE: 'planned' };
    expect((await cli(env, 'sessions', 'create-dynamodb-table')).code).toBe(0);
    const client = createDynamoClient({ region: setup.dynamo.region, endpoint: setup.dynamo.endpoint });
    try {
      const { Table } = await client.send(
        new DescribeTableCommand({ TableName: `${setup.dynamo.tablePrefix}planned` }),
      );
      expect(Table?.ProvisionedThroughput).toMatchObject({
        ReadCapacityUnits: plan.provisioned.rcu,
        WriteCapacityUnits: plan.provisioned.wcu,
      });
    } finally {
      client.destroy();
    }
  });

  it('gives the figures of the auto-scaling example in k8s/', async () => {
    const example = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', '..', 'k8s', 'dynamodb-session-autoscaling.json'), 'utf8'),
    ) as {
      _plan: string[];
      ScalableTargets: { ScalableDimension: string; MinCapacity: number; MaxCapacity: number }[];
      ScalingPolicies: {
        ScalableDimension: string;
        TargetTrackingScalingPolicyConfiguration: { TargetValue: number };
      }[];
    };
    const plan = JSON.parse((await cli({}, 'sessions', 'capacity-plan', ...example._plan, '--json')).stdout) as {
      provisioned: {
        auto_scaling: Record<'read' | 'write', { min: number; max: number; target_utilization_percent: number }>;
        index: { auto_scaling: Record<'read' | 'write', { min: number; max: number }> };
      };
    };
    const bounds = (dimension: string) => {
      const target = example.ScalableTargets.find((candidate) => candidate.ScalableDimension === dimension)!;
      return { min: target.MinCapacity, max: target.MaxCapacity };
    };
    expect(bounds('dynamodb:table:ReadCapacityUnits')).toEqual({
      min: plan.provisioned.auto_scaling.read.min,
      max: plan.provisioned.auto_scaling.read.max,
    });
    expect(bounds('dynamodb:table:WriteCapacityUnits')).toEqual({
      min: plan.provisioned.auto_scaling.write.min,
      max: plan.provisioned.auto_scaling.write.max,
    });
    expect(bounds('dynamodb:index:ReadCapacityUnits')).toEqual({
      min: plan.provisioned.index.auto_scaling.read.min,
      max: plan.provisioned.index.auto_scaling.read.max,
    });
    expect(bounds('dynamodb:index:WriteCapacityUnits')).toEqual({
      min: plan.provisioned.index.auto_scaling.write.min,
      max: plan.provisioned.index.auto_scaling.write.max,
    });
    for (const policy of example.ScalingPolicies)
      expect(policy.TargetTrackingScalingPolicyConfiguration.TargetValue).toBe(
        plan.provisioned.auto_scaling.read.target_utilization_percent,
      );
    expect(example.ScalingPolicies).toHaveLength(4);
  });

  it('explains a bad flag and has --help', async () => {
    const bad = await cli(
      {},
      'sessions',
      'capacity-plan',
      '--sign-ins-per-s',
      '1',
      '--requests-per-s',
      '1',
      '--sessions',
      '1',
      '--target-utilization',
      '1.5',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('It must be a fraction from 0.1 to 0.9');
    const help = await cli({}, 'sessions', 'capacity-plan', '--help');
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--requests-per-s <n>') });
  });
});
