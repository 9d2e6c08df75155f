/**
 * Argument parsers shared by the CLI's commands, in a module of their own
 * (commander only): a light command such as `validate` imports them without
 * the drivers, runner and reporters that common.ts pulls in (README "Startup").
 */
import { InvalidArgumentError } from 'commander';

/**
 * Commander argument parser for a non-negative integer flag (≥ `min`).
 * @throws InvalidArgumentError naming the flag when the value is not a safe integer ≥ `min`.
 */
export const intArg = (name: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
};
