import { variables, type VariableSpec } from './variables.js';

export interface VariableReference {
  name: string;
  description: string;
  default: string | undefined;
  secret: boolean;
}

/** The configuration reference, in declaration order: the source of the README table. */
export function configReference(): VariableReference[] {
  return Object.entries(variables).map(([name, spec]: [string, VariableSpec]) => {
    const parsed = spec.schema.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? formatDefault(parsed.data) : undefined;
    return {
      name,
      description: spec.description,
      default: spec.secret ? undefined : fallback,
      secret: spec.secret === true,
    };
  });
}

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** Markdown table rows for the README, between its config-reference markers. */
export function configReferenceMarkdown(): string {
  const rows = configReference().map(
    (variable) =>
      `| \`${variable.name}\` | ${variable.default === undefined || variable.default === '' ? '—' : `\`${variable.default}\``} | ${variable.secret ? 'yes' : ''} | ${variable.description} |`,
  );
  return ['| variable | default | secret | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
