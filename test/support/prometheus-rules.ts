// Alert rules as the chart ships them, unit-tested with promtool: one place for rendering the
// rule file, expected annotations and running `promtool test rules` (test/deploy/*.test.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroups {
  groups: { name: string; rules: AlertRule[] }[];
}

/** The annotations promtool expects of a firing alert: the rule's own, with `$labels` (and `$value`, when given) filled in. */
export function expectedAnnotations(
  spec: RuleGroups,
  alert: string,
  labels: Record<string, string> = {},
  value?: string,
): Record<string, string> {
  const rule = spec.groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in the rules`);
  const fill = (text: string) =>
    text
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name]!)
      .replace(/\{\{ \$value( \| humanize)? \}\}/g, (whole) => value ?? whole);
  return Object.fromEntries(Object.entries(rule.annotations).map(([key, text]) => [key, fill(text)]));
}

/** One expected firing alert of `spec`, with its severity and annotations. */
export const firing = (spec: RuleGroups, alert: string, labels: Record<string, string> = {}, value?: string) => {
  const rule = spec.groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === alert)!;
  return {
    exp_labels: { ...rule.labels, ...labels },
    exp_annotations: expectedAnnotations(spec, alert, labels, value),
  };
};

/** Runs `promtool test rules` over `spec` with these test cases; resolves to promtool's output, which says SUCCESS or FAILED. */
export async function promtoolTest(spec: RuleGroups, tests: unknown[]): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-promtool-'));
  try {
    writeFileSync(join(work, 'rules.yaml'), JSON.stringify(spec));
    writeFileSync(
      join(work, 'rules.test.yaml'),
      JSON.stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }),
    );
    const result = await run('promtool', ['test', 'rules', 'rules.test.yaml'], { cwd: work }).catch(
      (error: { stdout?: string; stderr?: string }) => error,
    );
    return `${result.stdout ?? ''}${result.stderr ?? ''}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
