/**
 * One HTTP call over an undici dispatcher (a GET, or a POST of a small JSON body), its answer read
 * into a string, with a deadline for the whole exchange and a cap on the body: what every WeChat
 * call needs and nothing more. Knows HTTP, not WeChat.
 *
 * It hands undici a handler of its own (`dispatcher.dispatch`) rather than going through undici's
 * `request()`, which wraps every response in a stream, a promise and an async resource. Those cost
 * more allocation per call than everything else a login allocates: under load V8 grows its young
 * generation to keep up, and the process's peak memory with it (docs/benchmarks.md). Here the body
 * arrives as chunks into an array, and undici's own keep-alive, timeouts and parser do the rest.
 */
import type { Dispatcher } from 'undici';
import { timers } from './builtins.js';

/** Why a GET did not give a body. The caller words it for its own endpoint. */
export type RequestFailure =
  | { reason: 'status'; status: number }
  | { reason: 'too-large' }
  | { reason: 'timeout'; cause: unknown }
  | { reason: 'network'; cause: unknown };

export interface RequestOptions {
  /** Origin and path (with its query) as undici takes them. */
  origin: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  /** A POST's body (sent as given, with the headers given); a GET when absent. */
  body?: string | undefined;
  /** Milliseconds from dispatch to the last byte of the body. */
  timeout: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
}

/** Resolves with the body of a 200 answer as UTF-8 text; rejects with a {@link RequestFailure}. */
export function cappedRequest(dispatcher: Dispatcher, options: RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const handler = new CappedRequestHandler(resolve, reject, options);
    try {
      dispatcher.dispatch(
        {
          origin: options.origin,
          path: options.path,
          method: options.body === undefined ? 'GET' : 'POST',
          headers: options.headers,
          body: options.body,
          headersTimeout: options.timeout,
          bodyTimeout: options.timeout,
        },
        handler,
      );
    } catch (error) {
      handler.fail({ reason: 'network', cause: error });
    }
  });
}

class CappedRequestHandler implements Dispatcher.DispatchHandler {
  readonly #resolve: (text: string) => void;
  readonly #reject: (failure: RequestFailure) => void;
  readonly #maxBytes: number;
  // One deadline for the whole exchange, body included: headersTimeout/bodyTimeout alone would
  // let a server that drips one byte at a time hold the login for ever. Cleared as the call ends.
  readonly #timer: NodeJS.Timeout;
  #controller: Dispatcher.DispatchController | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #settled = false;

  constructor(resolve: (text: string) => void, reject: (failure: RequestFailure) => void, options: RequestOptions) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#maxBytes = options.maxBytes;
    keepTimerList(options.timeout);
    this.#timer = setTimeout(passDeadline, options.timeout, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // The deadline passed while the request waited for a connection: it never goes out.
    if (this.#settled) controller.abort(new Error('The call already ended.'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 100 Continue and the like: the answer is still to come
    if (statusCode !== 200) return this.#stop(controller, { reason: 'status', status: statusCode });
    // With a length declared, the HTTP parser delivers no more than it; refuse a too-long one at once.
    if (Number(headers['content-length']) > this.#maxBytes) this.#stop(controller, { reason: 'too-large' });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.#maxBytes) return this.#stop(controller, { reason: 'too-large' });
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, this.#size).toString('utf8'));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail({ reason: 'network', cause: error });
  }

  /** The deadline passed: the caller hears so now, and undici drops the request. */
  expire(): void {
    if (this.#settled) return;
    const cause = new Error('The WeChat call did not finish within its timeout.');
    this.fail({ reason: 'timeout', cause });
    this.#controller?.abort(cause);
  }

  /** Ends the call with a failure; the first outcome wins. */
  fail(failure: RequestFailure): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#chunks = [];
    this.#reject(failure);
  }

  // The connection goes too: an unread body of a refused answer cannot be skipped on a kept-alive
  // socket. The caller hears at once; the abort waits for the parser to return: undici asserts
  // that a request it is still parsing was not aborted, and a socket that closes without an error
  // in between (a body that ends with the connection) would turn that into an uncaught exception.
  #stop(controller: Dispatcher.DispatchController, failure: RequestFailure): void {
    this.fail(failure);
    queueMicrotask(() => controller.abort(new Error('The answer was refused.')));
  }
}

function passDeadline(handler: CappedRequestHandler): void {
  handler.expire();
}

// Node keeps one list of timers per duration and drops it when its last timer is cleared; the
// next timer of that duration builds it again (a priority-queue insert, a libuv timer restart).
// One call at a time — a sequential login — paid that twice per login. A keeper timer of the same
// duration holds the list for one period, and the first call after it fired sets the next, so a
// call's deadline is an append and a removal. The keeper is unref'd (it never keeps a process
// alive), one-shot and set through Node's own timers module, so a test's fake timers neither see
// it nor loop on it; only timeouts of a second or more get one, and only the first few of them.
const timerListKeepers = new Map<number, NodeJS.Timeout>();
const MAX_TIMER_LIST_KEEPERS = 8;

function keepTimerList(ms: number): void {
  if (ms < 1000 || timerListKeepers.has(ms) || timerListKeepers.size >= MAX_TIMER_LIST_KEEPERS) return;
  timerListKeepers.set(ms, timers.setTimeout(dropKeeper, ms, ms).unref());
}

function dropKeeper(ms: number): void {
  timerListKeepers.delete(ms);
}
