/**
 * Plays the user's side of a login against the local WeChat emulator: the browser that starts it
 * and the phone that confirms (or declines) on WeChat.
 */
import type request from 'supertest';
import type { WeChatEmulator } from '../../lib/testing/index.js';

export type Agent = ReturnType<typeof request.agent>;

/** What the emulated user does on WeChat's page: confirm as a test user, or decline. */
export interface LoginChoice {
  user?: string;
  decline?: boolean;
}

/**
 * Lets the emulated user choose on the WeChat page `authorizeURL` (where the app's login start
 * redirected), and returns where WeChat sends the browser back: the callback's path and query.
 * Throws when WeChat shows a page instead (an error page, or a decline that stays on WeChat).
 */
export function callbackFrom(emulator: WeChatEmulator, authorizeURL: string, choice: LoginChoice): string {
  const outcome = emulator.authorize(authorizeURL, choice);
  if (outcome.type !== 'redirect') throw new Error(`WeChat did not redirect back: ${outcome.type}`);
  const callback = new URL(outcome.location);
  return callback.pathname + callback.search;
}

/**
 * GETs `startPath` with `agent` (a 302 to the emulator's QR page), lets the emulated user choose,
 * and returns where WeChat sends the browser back: the callback's path and query. Request it with
 * the same agent, whose session cookie holds the state.
 */
export async function loginOnEmulator(emulator: WeChatEmulator, agent: Agent, choice: LoginChoice, startPath = '/auth/wechat'): Promise<string> {
  const start = await agent.get(startPath).expect(302);
  return callbackFrom(emulator, start.headers.location as string, choice);
}
