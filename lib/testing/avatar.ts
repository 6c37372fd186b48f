/**
 * The stand-in for WeChat's avatar host (`thirdwx.qlogo.cn/mmopen/…`): a picture for any avatar
 * path, the same for the same path, so the demo and browser tests show avatars with no network.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { createHash } from 'node:crypto';
import type { Reply } from './http.js';

/** A person's silhouette on a background whose colour comes from the path. */
export function avatarReply(pathname: string): Reply {
  const hue = createHash('sha256').update(pathname).digest().readUInt16BE(0) % 360;
  const body =
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="132" height="132">' +
    `<rect width="64" height="64" fill="hsl(${hue} 55% 45%)"/>` +
    '<circle cx="32" cy="26" r="12" fill="#fff"/><path d="M12 58c2-12 10-18 20-18s18 6 20 18z" fill="#fff"/></svg>';
  return { status: 200, contentType: 'image/svg+xml', body };
}
