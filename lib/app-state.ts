/**
 * App state given to `passport.authenticate` as a string. passport-oauth2 stores only an object
 * (a string goes to WeChat as the state itself), so a string travels wrapped through the state
 * store and is unwrapped before `info.state` reaches the app.
 */
const TEXT_KEY = 'passport-wechat-oauth2:text-state';

/** The object the state store keeps for a string app state. */
export function wrapTextState(text: string): Record<string, string> {
  return { [TEXT_KEY]: text };
}

/** `info` with a wrapped string app state unwrapped; any other info as it is. */
export function withTextState<T extends object | undefined>(info: T): T {
  const state = (info as { state?: unknown } | undefined)?.state;
  if (typeof state !== 'object' || state === null || Object.keys(state).length !== 1) return info;
  const text = (state as Record<string, unknown>)[TEXT_KEY];
  return typeof text === 'string' ? ({ ...info, state: text } as T) : info;
}
