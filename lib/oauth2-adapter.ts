/**
 * The object passport-oauth2 (and passport-oauth2-refresh) drive as if it were node-oauth's
 * `OAuth2`: it carries the AppID and the endpoints they read, and hands token requests to the
 * WeChat client, since WeChat's token calls are not standard OAuth 2.0.
 */
import type { WeChatClient, WeChatTokenResponse } from './client.js';
import { WeChatOptionsError } from './errors.js';
import { settle } from './promise-callbacks.js';

/** Node-oauth's token callback. */
export type TokenCallback = (err: unknown, accessToken?: string, refreshToken?: string, params?: WeChatTokenResponse) => void;

/** Passport-oauth2 and passport-oauth2-refresh drive this as if it were node-oauth's OAuth2. */
export class WeChatOAuth2Adapter {
  readonly _clientId: string;
  readonly _clientSecret = '';
  readonly _baseSite = '';
  readonly _authorizeUrl: string;
  readonly _accessTokenUrl: string;
  readonly _customHeaders: Record<string, string> = {};
  getOAuthAccessToken: (code: string, params: Record<string, unknown>, callback: TokenCallback) => void = (_c, _p, callback) =>
    callback(new WeChatOptionsError('This OAuth2 adapter has no WeChat client.'));

  // Positional, like node-oauth's OAuth2: passport-oauth2-refresh calls `new adapter.constructor(...)`.
  constructor(clientId: string, _clientSecret?: string, _baseSite?: string, authorizeUrl = '', accessTokenUrl = '') {
    this._clientId = clientId;
    this._authorizeUrl = authorizeUrl;
    this._accessTokenUrl = accessTokenUrl;
  }
}

/** An adapter whose token requests go to `client`. */
export function adapterFor(client: WeChatClient, authorizeUrl: string, tokenUrl: string): WeChatOAuth2Adapter {
  const adapter = new WeChatOAuth2Adapter(client.appId, undefined, undefined, authorizeUrl, tokenUrl);
  adapter.getOAuthAccessToken = grantFor(client);
  return adapter;
}

// passport-oauth2 asks for a token with a code; passport-oauth2-refresh with grant_type=refresh_token.
function grantFor(client: WeChatClient): WeChatOAuth2Adapter['getOAuthAccessToken'] {
  return (codeOrRefreshToken, params, callback) => {
    const grant =
      params?.grant_type === 'refresh_token'
        ? client.refreshAccessToken(codeOrRefreshToken)
        : client.exchangeCode(codeOrRefreshToken);
    settle(
      grant,
      (response) => callback(null, response.access_token, response.refresh_token, response),
      (error) => callback(error),
      (thrown) => process.nextTick(() => { throw thrown; }),
    );
  };
}
