/**
 * The WeChat apps one WeChatStrategy logs users in with — the website QR login and, with an
 * `officialAccount`, the Official Account login inside WeChat — and which one a request uses:
 * a new login by the route's `flow` or the User-Agent, a callback by its state.
 */
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';
import { WeChatClient } from './client.js';
import { WeChatOptionsError } from './errors.js';
import { flowBindingKey, flowOfState, prefixedStore, prefixOf, type FlowStateStore } from './flow-state.js';
import { adapterFor, type WeChatOAuth2Adapter } from './oauth2-adapter.js';
import type { WeChatFlow } from './options.js';
import type { LoginFlowSettings, WeChatSettings } from './settings.js';

/** One configured WeChat app, ready to log users in. */
export interface LoginFlow {
  settings: LoginFlowSettings;
  client: WeChatClient;
  oauth2: WeChatOAuth2Adapter;
  stateStore: FlowStateStore;
}

/**
 * The strategy's flows, top-level app first. `stateStoreOf(index)` is passport-oauth2's
 * state store for the flow at `index`. With two apps the state names the app that started the
 * login, bound to it by a MAC no URL edit can forge.
 */
export function buildLoginFlows(
  settings: WeChatSettings,
  appSecrets: readonly string[],
  stateStoreOf: (index: number, flow: WeChatFlow) => OAuth2Strategy.StateStore,
): LoginFlow[] {
  const binding = settings.apps.length > 1 ? flowBindingKey(appSecrets) : undefined;
  return settings.apps.map((app, index) => {
    // The AppSecret lives only inside the client's private field, out of util.inspect's reach.
    // Stryker disable next-line StringLiteral: resolveSettings gives one AppSecret per app, so the fallback is never used.
    const client = new WeChatClient({ ...settings, appId: app.appId, appSecret: appSecrets[index] ?? '' });
    const oauth2 = adapterFor(client, app.authorizationURL, settings.endpoints.tokenURL);
    const stateStore = prefixedStore(stateStoreOf(index, app.flow), binding && { prefix: prefixOf(app.flow), key: binding });
    return { settings: app, client, oauth2, stateStore };
  });
}

/** The flow named (the top-level one when unnamed). */
export function flowNamed(flows: readonly LoginFlow[], flow: WeChatFlow | undefined): LoginFlow {
  const found = flow === undefined ? flows[0] : flows.find((candidate) => candidate.settings.flow === flow);
  if (!found) throw new WeChatOptionsError('This strategy has no app for the flow given: "website" or "official-account", as configured.');
  return found;
}

/** The flow a new login uses: the one the route asks for, else the Official Account inside WeChat. */
export function flowForLogin(flows: readonly LoginFlow[], req: Request, flow: unknown): LoginFlow {
  if (flow !== undefined && flow !== 'website' && flow !== 'official-account') {
    throw new WeChatOptionsError('flow must be "website" or "official-account".');
  }
  if (flow !== undefined || flows.length === 1) return flowNamed(flows, flow);
  return flowNamed(flows, isInsideWeChat(req.headers?.['user-agent']) ? 'official-account' : 'website');
}

/** The flow that started the login a callback finishes, named by its state. */
export function flowForCallback(flows: readonly LoginFlow[], state: string | undefined): LoginFlow | undefined {
  if (flows.length === 1) return flows[0];
  const flow = flowOfState(state);
  return flow && flows.find((candidate) => candidate.settings.flow === flow);
}

// NOTE: WeChat's in-app browser says "MicroMessenger" in its User-Agent (also on PC WeChat);
// WeCom ("wxwork") says it too but cannot use an Official Account login (docs/wechat-protocol.md#inside-wechat-the-micromessenger-user-agent).
/** Whether a User-Agent is WeChat's own browser. Pure. */
export function isInsideWeChat(userAgent: string | string[] | undefined): boolean {
  if (userAgent === undefined) return false;
  const ua = Array.isArray(userAgent) ? userAgent.join(' ') : userAgent;
  return /MicroMessenger/i.test(ua) && !/wxwork/i.test(ua);
}
