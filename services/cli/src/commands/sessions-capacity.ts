// `portcullis sessions capacity-plan`: RCU/WCU for the DynamoDB session table from the peak
// load, for provisioned (with auto-scaling bounds) and on-demand, priced at list prices. The
// per-operation model follows the driver (libs/session-store/src/drivers/dynamodb.ts) and is
// explained, with the prices' date, in docs/choosing-a-session-store.md.
import { InvalidArgumentError, type Command } from 'commander';
import { positiveNumber, wholeNumber } from '../options.js';
import type { CliContext } from '../program.js';
import { readVariable } from '../env.js';

/** us-east-1 list prices as of 2026-12 (USD); the docs give the formula to redo with others. */
export const PRICES = {
  onDemandReadPerMillion: 0.125,
  onDemandWritePerMillion: 0.625,
  provisionedRcuHour: 0.00013,
  provisionedWcuHour: 0.00065,
  storageGbMonth: 0.25,
} as const;
const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
/** Items DynamoDB adds per item for storage (key names, index bookkeeping). */
const ITEM_OVERHEAD_BYTES = 100;
/** The revocation marker read with every session (userId, cut-off): far below 1 KB. */
const MARKER_BYTES = 200;

export interface CapacityInput {
  signInsPerSecond: number;
  requestsPerSecond: number;
  sessions: number;
  itemBytes: number;
  /** DYNAMODB_CONSISTENT_READ: applies to GetItem; the request path's BatchGetItem is always consistent. */
  consistentRead: boolean;
  pods: number;
  /** Auto scaling's target: provisioned capacity = peak / target. */
  targetUtilization: number;
  /** Items counted exactly by each pod every 60 s (the driver's exactCountThreshold; 0 = DescribeTable + one sample page). */
  exactCountThreshold: number;
  maxConcurrentSessions: number;
}

const readUnits = (bytes: number, consistent: boolean) => Math.ceil(bytes / 4096) * (consistent ? 1 : 0.5);
const writeUnits = (bytes: number) => Math.ceil(bytes / 1024);
const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export function capacityPlan(input: CapacityInput) {
  const { itemBytes: size, consistentRead } = input;
  const factors = {
    consistent_read_factor: consistentRead ? 1 : 0.5,
    read_units_per_item: readUnits(size, true),
    write_units_per_item: writeUnits(size),
  };
  // Authenticated request: one BatchGetItem (session + marker, each item rounded up on its own,
  // always consistent) and one rolling PutItem; KEYS_ONLY byUser is not written by it.
  const request = { rcu: readUnits(size, true) + readUnits(MARKER_BYTES, true), wcu: writeUnits(size) };
  // Sign-in: a pre-MFA session put, the id regenerated at MFA (put of the new item, which also
  // writes one KEYS_ONLY index entry under 1 KB, and delete of the old one, priced by its size),
  // the concurrency check (Query on byUser, never consistent, then one GetItem per session).
  const signIn = {
    rcu:
      readUnits(64 * input.maxConcurrentSessions, false) +
      input.maxConcurrentSessions * readUnits(size, consistentRead),
    wcu: 3 * writeUnits(size) + 1,
  };
  // Scan reads round the summed size of the items read, eventually consistent.
  const counted = input.exactCountThreshold > 0 && input.sessions <= input.exactCountThreshold ? input.sessions : 100;
  const counterRcu = (input.pods * Math.ceil((counted * size) / 4096) * 0.5) / 60;
  const peak = {
    rcu: input.requestsPerSecond * request.rcu + input.signInsPerSecond * signIn.rcu + counterRcu,
    wcu: input.requestsPerSecond * request.wcu + input.signInsPerSecond * signIn.wcu,
  };
  const provisioned = {
    rcu: Math.max(1, Math.ceil(peak.rcu / input.targetUtilization)),
    wcu: Math.max(1, Math.ceil(peak.wcu / input.targetUtilization)),
  };
  // The KEYS_ONLY byUser index has capacity of its own when PROVISIONED: the sign-in's Query,
  // and one entry written per sign-in plus one removed per explicit sign-out (TTL deletes are free).
  const indexPeak = {
    rcu: input.signInsPerSecond * readUnits(64 * input.maxConcurrentSessions, false),
    wcu: input.signInsPerSecond * 2,
  };
  const index = {
    rcu: Math.max(1, Math.ceil(indexPeak.rcu / input.targetUtilization)),
    wcu: Math.max(1, Math.ceil(indexPeak.wcu / input.targetUtilization)),
  };
  const storageGb = (input.sessions * (size + ITEM_OVERHEAD_BYTES)) / 1e9;
  const storage = storageGb * PRICES.storageGbMonth;
  const onDemandMonth =
    (((peak.rcu + indexPeak.rcu) * PRICES.onDemandReadPerMillion +
      (peak.wcu + indexPeak.wcu) * PRICES.onDemandWritePerMillion) *
      SECONDS_PER_MONTH) /
      1e6 +
    storage;
  const provisionedMonth =
    ((provisioned.rcu + index.rcu) * PRICES.provisionedRcuHour +
      (provisioned.wcu + index.wcu) * PRICES.provisionedWcuHour) *
      HOURS_PER_MONTH +
    storage;
  // Auto scaling keeps the peak at the target; a quarter of it is what a quiet night needs, four times it a burst.
  const bounds = (units: number) => ({
    min: Math.max(1, Math.ceil(units / 4)),
    max: units * 4,
    target_utilization_percent: Math.round(input.targetUtilization * 100),
  });
  const perMillion = (month: number) => (input.sessions > 0 ? round((month * 1e6) / input.sessions) : null);
  return {
    input,
    factors,
    per_operation: { request, sign_in: signIn, item_counter_rcu_per_s: round(counterRcu) },
    peak: {
      rcu: round(peak.rcu),
      wcu: round(peak.wcu),
      index_rcu: round(indexPeak.rcu),
      index_wcu: round(indexPeak.wcu),
    },
    provisioned: {
      ...provisioned,
      index: { ...index, auto_scaling: { read: bounds(index.rcu), write: bounds(index.wcu) } },
      auto_scaling: { read: bounds(provisioned.rcu), write: bounds(provisioned.wcu) },
      env: {
        DYNAMODB_BILLING_MODE: 'PROVISIONED',
        DYNAMODB_READ_CAPACITY: String(provisioned.rcu),
        DYNAMODB_WRITE_CAPACITY: String(provisioned.wcu),
      },
      usd_per_month: round(provisionedMonth),
      usd_per_million_sessions_month: perMillion(provisionedMonth),
    },
    on_demand: {
      read_request_units_per_s: round(peak.rcu + indexPeak.rcu),
      write_request_units_per_s: round(peak.wcu + indexPeak.wcu),
      usd_per_month_at_peak: round(onDemandMonth),
      usd_per_million_sessions_month: perMillion(onDemandMonth),
    },
    storage_gb: round(storageGb, 3),
    prices: { ...PRICES, as_of: '2026-12', region: 'us-east-1' },
  };
}

const fraction = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0.1 || n > 0.9)
    throw new InvalidArgumentError('It must be a fraction from 0.1 to 0.9 (auto scaling accepts 20–90 %).');
  return n;
};

interface PlanFlags {
  signInsPerS: number;
  requestsPerS: number;
  sessions: number;
  itemBytes: number;
  pods: number;
  targetUtilization: number;
  exactCountThreshold: number;
  json?: boolean;
}

function plan(context: CliContext, flags: PlanFlags): void {
  const result = capacityPlan({
    signInsPerSecond: flags.signInsPerS,
    requestsPerSecond: flags.requestsPerS,
    sessions: flags.sessions,
    itemBytes: flags.itemBytes,
    consistentRead: readVariable(context.env, 'DYNAMODB_CONSISTENT_READ'),
    pods: flags.pods,
    targetUtilization: flags.targetUtilization,
    exactCountThreshold: flags.exactCountThreshold,
    maxConcurrentSessions: readVariable(context.env, 'SESSION_MAX_CONCURRENT'),
  });
  if (flags.json) return void context.stdout.write(`${JSON.stringify(result)}\n`);
  const { factors: f, per_operation: op, provisioned: p, on_demand: d } = result;
  context.stdout.write(
    [
      `DynamoDB capacity plan: ${flags.requestsPerS} requests/s, ${flags.signInsPerS} sign-ins/s, ${flags.sessions} sessions of ${flags.itemBytes} B, ${flags.pods} pods`,
      `factors: ConsistentRead ×${f.consistent_read_factor} (GetItem; the request path's BatchGetItem is always consistent), ${f.read_units_per_item} RCU and ${f.write_units_per_item} WCU per item`,
      `per request: ${op.request.rcu} RCU + ${op.request.wcu} WCU; per sign-in: ${op.sign_in.rcu} RCU + ${op.sign_in.wcu} WCU; item counter: ${op.item_counter_rcu_per_s} RCU/s`,
      `peak: ${result.peak.rcu} RCU/s, ${result.peak.wcu} WCU/s`,
      `provisioned at ${Math.round(flags.targetUtilization * 100)} % target: ${p.rcu} RCU, ${p.wcu} WCU (auto scaling read ${p.auto_scaling.read.min}–${p.auto_scaling.read.max}, write ${p.auto_scaling.write.min}–${p.auto_scaling.write.max}); byUser index ${p.index.rcu} RCU, ${p.index.wcu} WCU; $${p.usd_per_month}/month`,
      `on-demand: ${d.read_request_units_per_s} RRU/s, ${d.write_request_units_per_s} WRU/s; $${d.usd_per_month_at_peak}/month if the peak lasted all month`,
      `set: ${Object.entries(p.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    ].join('\n') + '\n',
  );
}

export function registerCapacityPlanCommand(sessions: Command, context: CliContext): void {
  sessions
    .command('capacity-plan')
    .description(
      'RCU/WCU and monthly cost of the DynamoDB session table, provisioned (with auto-scaling bounds) and on-demand; see docs/choosing-a-session-store.md',
    )
    .requiredOption('--sign-ins-per-s <n>', 'peak sign-ins per second', positiveNumber)
    .requiredOption('--requests-per-s <n>', 'peak authenticated requests per second, all services', positiveNumber)
    .requiredOption('--sessions <n>', 'live sessions at peak', wholeNumber(0))
    .option('--item-bytes <n>', 'average session item size', wholeNumber(1), 1024)
    .option('--pods <n>', 'pods running the item counter (all replicas of the three services)', wholeNumber(1), 6)
    .option('--target-utilization <fraction>', 'auto scaling target', fraction, 0.7)
    .option(
      '--exact-count-threshold <n>',
      'the driver counts exactly below this many items (0 = DescribeTable plus one sample page)',
      wholeNumber(0),
      100_000,
    )
    .option('--json', 'print the plan as JSON')
    .action((flags: PlanFlags) => plan(context, flags));
}
