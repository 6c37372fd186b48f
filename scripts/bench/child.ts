/**
 * Child processes for the soak, load and benchmark scripts: spawn a script with an IPC channel,
 * wait for its `ready` message, ask it questions, and stop it (by its own pid) when done.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  /** The child's `ready` message. */
  ready: Record<string, unknown>;
  /** Sends `{ type, ...payload }` and resolves with the child's answer carrying the same id. */
  ask<T = Record<string, unknown>>(type: string, payload?: Record<string, unknown>): Promise<T>;
  /** Disconnects, then kills the child if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startChild(
  file: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv; execArgv?: string[]; readyTimeoutMs?: number } = {},
): Promise<Child> {
  const child = fork(file, options.args ?? [], {
    env: options.env ?? process.env,
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within ${options.readyTimeoutMs ?? 30_000} ms`)), options.readyTimeoutMs ?? 30_000);
    const early = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready`));
    };
    child.once('exit', early);
    child.on('message', (message: Record<string, unknown>) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', early);
        resolve(message);
        return;
      }
      const id = message.id;
      if (typeof id === 'number') {
        waiting.get(id)?.(message);
        waiting.delete(id);
      }
    });
  });
  return {
    process: child,
    ready,
    ask<T>(type: string, payload: Record<string, unknown> = {}) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file} did not answer ${type}`)), 60_000);
        waiting.set(id, (message) => {
          clearTimeout(timer);
          resolve(message as T);
        });
        child.send({ type, id, ...payload });
      });
    },
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Median of a list of numbers (NaN for an empty list). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The p-th percentile (0-100) of a list of numbers, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * A distribution-free 95 % confidence interval of the median: the order statistics of ranks
 * n/2 − 0.98·√n and 1 + n/2 + 0.98·√n, rounded (1-based; the normal approximation of the
 * binomial). NaN bounds for fewer than 6 values.
 */
export function medianInterval(values: readonly number[]): [number, number] {
  const n = values.length;
  if (n < 6) return [Number.NaN, Number.NaN];
  const sorted = [...values].sort((a, b) => a - b);
  const half = 0.98 * Math.sqrt(n);
  const low = Math.max(0, Math.round(n / 2 - half) - 1);
  const high = Math.min(n - 1, Math.round(1 + n / 2 + half) - 1);
  return [sorted[low] as number, sorted[high] as number];
}

/** A number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Renders rows as a Markdown table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
