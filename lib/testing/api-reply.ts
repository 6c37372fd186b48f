/**
 * The answer of one API call as WeChat sends it, or the one an injected fault puts in its place:
 * shared by the `sns/*` GETs (api.ts) and the app-token POSTs (app-api.ts).
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { describeFault } from './faults.js';
import { gatewayReply, type Reply } from './http.js';
import type { ResolvedOptions } from './options.js';
import type { EmulatorFault, HangFault } from './types.js';
import { jsonReply, type ApiResult } from './wechat-json.js';

/** `answer` runs the endpoint (spending codes, issuing tokens); a fault may run it first or not at all. A hang never answers, so it is the caller's. */
export function apiReply(answer: () => ApiResult, fault: Exclude<EmulatorFault, HangFault> | undefined, options: ResolvedOptions): Reply {
  const json = (result: ApiResult): Reply => jsonReply(result, options.contentType, options.clock);
  if (fault === undefined) return json(answer());
  if ('delayMs' in fault) return { ...json(answer()), fault: 'delay' };
  const kind = describeFault(fault);
  if ('html' in fault) return { ...gatewayReply(fault.status), fault: kind };
  if ('body' in fault) return { status: fault.status ?? 200, contentType: fault.contentType ?? options.contentType, body: fault.body, fault: kind };
  if (fault.afterProcessing === true) answer();
  return { ...json({ errcode: fault.errcode, errmsg: fault.errmsg }), fault: kind };
}
