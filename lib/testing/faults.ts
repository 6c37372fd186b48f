/**
 * What should go wrong with the next API calls: the queue of one-shot faults, taken in the
 * order queued, and the random latency added to every call.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { EmulatorApiEndpoint, EmulatorCall, EmulatorFault, FaultTarget, LatencyRange } from './types.js';

const TARGETS: readonly string[] = Object.freeze([
  'access_token',
  'refresh_token',
  'userinfo',
  'auth',
  'jscode2session',
  'stable_token',
  'getuserphonenumber',
  'any',
]);

export class Faults {
  private readonly queue: Array<{ readonly target: FaultTarget; readonly fault: EmulatorFault }> = [];
  private latency: LatencyRange | null = null;

  /** Queues a one-shot fault for the next call to `target`; a TypeError for an unknown target or shape. */
  add(target: FaultTarget, fault: EmulatorFault): void {
    if (!TARGETS.includes(target)) throw new TypeError(`failNext: unknown target ${String(target)}`);
    assertFault(fault);
    this.queue.push({ target, fault });
  }

  /** The first fault queued for this endpoint or for `'any'`, removed from the queue. */
  take(endpoint: EmulatorApiEndpoint): EmulatorFault | undefined {
    const index = this.queue.findIndex((entry) => entry.target === endpoint || entry.target === 'any');
    if (index === -1) return undefined;
    return this.queue.splice(index, 1)[0]?.fault;
  }

  setLatency(range: LatencyRange | null): void {
    if (range !== null && !(range.minMs >= 0 && range.maxMs >= range.minMs)) {
      throw new RangeError('setLatency: need 0 <= minMs <= maxMs');
    }
    this.latency = range;
  }

  /** How long a call waits before its answer: the random latency, plus a `DelayFault`'s delay. */
  delayMs(fault: EmulatorFault | undefined): number {
    const delayMs = fault !== undefined && 'delayMs' in fault ? fault.delayMs : 0;
    return this.randomLatency() + delayMs;
  }

  /** Forgets queued faults and latency. */
  clear(): void {
    this.queue.length = 0;
    this.latency = null;
  }

  private randomLatency(): number {
    if (this.latency === null) return 0;
    return this.latency.minMs + Math.random() * (this.latency.maxMs - this.latency.minMs);
  }
}

export function describeFault(fault: EmulatorFault): NonNullable<EmulatorCall['fault']> {
  if ('hang' in fault) return 'hang';
  if ('delayMs' in fault) return 'delay';
  if ('html' in fault) return 'http-error';
  if ('body' in fault) return 'raw-body';
  return 'errcode';
}

function assertFault(fault: EmulatorFault): void {
  const shapes = [
    'hang' in fault && fault.hang === true,
    'delayMs' in fault && Number.isFinite(fault.delayMs) && fault.delayMs >= 0,
    'html' in fault && Number.isInteger(fault.status),
    'body' in fault && typeof fault.body === 'string',
    'errcode' in fault && Number.isInteger(fault.errcode),
  ];
  if (!shapes.includes(true)) throw new TypeError(`failNext: not a fault: ${JSON.stringify(fault)}`);
}
