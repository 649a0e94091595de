// Option parsers shared by every command, so a flag's error message reads the same everywhere
// (commander prints "option '--x <n>' argument 'y' is invalid. <message>").
import { InvalidArgumentError } from 'commander';

export function wholeNumber(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      throw new InvalidArgumentError(`It must be a whole number of at least ${min}.`);
    return Number(value);
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('It must be a number above 0.');
  return n;
}
