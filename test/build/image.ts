// The Dockerfile read as a builder would (dockerfile-ast), turned into what the checks need:
// the stages, what the build stage takes from the context, and the runtime image's file list
// in terms of this repository after `npm run build`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { root } from './workspaces.js';

export interface Stage {
  name: string | undefined;
  image: string;
  instructions: Instruction[];
}

export interface CopyStep {
  from: string | undefined;
  sources: string[];
  destination: string;
  flags: Record<string, string>;
  /** A here-document's text when the COPY writes one. */
  heredoc?: string;
}

const text = () => readFileSync(join(root, 'Dockerfile'), 'utf8');

export function readStages(source = text()): Stage[] {
  const dockerfile = DockerfileParser.parse(source);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image, as, name] = instruction.getArguments().map((argument) => argument.getValue());
      stages.push({ image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

function lineText(
  source: string,
  start: { line: number; character: number },
  end: { line: number; character: number },
): string {
  const lines = source.split('\n');
  const picked = lines.slice(start.line, end.line + 1);
  picked[picked.length - 1] = picked.at(-1)!.slice(0, end.character);
  picked[0] = picked[0]!.slice(start.character);
  return picked.join('\n');
}

export function copySteps(stage: Stage, source = text()): CopyStep[] {
  return stage.instructions
    .filter((instruction) => instruction.getKeyword() === 'COPY')
    .map((instruction) => {
      const copy = instruction as Instruction & {
        getFlags(): { getName(): string; getValue(): string | null }[];
        getHeredocs(): {
          getContentRange(): {
            start: { line: number; character: number };
            end: { line: number; character: number };
          } | null;
        }[];
      };
      const flags = Object.fromEntries(copy.getFlags().map((flag) => [flag.getName(), flag.getValue() ?? '']));
      const heredoc = copy.getHeredocs()[0];
      const range = heredoc?.getContentRange();
      if (heredoc) {
        // COPY <<NAME destination: the destination follows the operator on the first line.
        const firstLine = source.split('\n')[instruction.getRange().start.line]!;
        const destination = firstLine.trim().split(/\s+/).at(-1)!;
        return {
          from: undefined,
          sources: [],
          destination,
          flags,
          heredoc: range ? lineText(source, range.start, range.end) : '',
        };
      }
      const args = copy.getArguments().map((argument) => argument.getValue());
      return { from: flags.from, sources: args.slice(0, -1), destination: args.at(-1)!, flags };
    });
}

/** The last WORKDIR of a stage (absolute), `/` when there is none. */
export function workdir(stage: Stage): string {
  const set = stage.instructions.filter((instruction) => instruction.getKeyword() === 'WORKDIR');
  return set.length > 0 ? posix.resolve('/', set.at(-1)!.getArguments()[0]!.getValue()) : '/';
}

/** Where a COPY puts one of its sources (Docker's rules: a directory destination takes the basename). */
export function destinationOf(step: CopyStep, sourcePath: string, cwd: string): string {
  const destination = posix.resolve(cwd, step.destination);
  const intoDirectory = step.destination.endsWith('/') || step.sources.length > 1;
  return intoDirectory ? posix.join(destination, posix.basename(sourcePath)) : destination;
}

export function env(stage: Stage): Record<string, string> {
  const values: Record<string, string> = {};
  for (const instruction of stage.instructions.filter((candidate) => candidate.getKeyword() === 'ENV')) {
    for (const argument of instruction.getArguments().map((item) => item.getValue())) {
      const at = argument.indexOf('=');
      if (at > 0) values[argument.slice(0, at)] = argument.slice(at + 1);
    }
  }
  return values;
}

export function user(stage: Stage): string | undefined {
  const set = stage.instructions.filter((instruction) => instruction.getKeyword() === 'USER');
  return set
    .at(-1)
    ?.getArguments()
    .map((argument) => argument.getValue())
    .join(' ');
}

/** Every file under a path of this repository (the path itself when it is a file). */
export function filesUnder(relativePath: string, skip: (relative: string) => boolean = () => false): string[] {
  const absolute = join(root, relativePath);
  if (!statSync(absolute).isDirectory()) return [relativePath];
  return readdirSync(absolute, { withFileTypes: true }).flatMap((entry) => {
    const child = posix.join(relativePath, entry.name);
    if (skip(child)) return [];
    return entry.isDirectory() ? filesUnder(child, skip) : [child];
  });
}
