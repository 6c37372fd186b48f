/**
 * The stand-in for WeChat's wxLogin.js, the script a site loads to embed the QR login box:
 * the same script, pointing its iframe at the emulator's QR page instead of WeChat's.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { Reply } from './http.js';

/** wxLogin.js, pointing its iframe at this emulator's QR page (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds). */
export function wxLoginScriptReply(qrconnectURL: string): Reply {
  return { status: 200, contentType: 'application/javascript; charset=utf-8', body: renderWxLoginScript(qrconnectURL) };
}

/**
 * The stand-in for `res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js`, written like
 * WeChat's 2024 script (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds): `redirect_uri` and `state` concatenated raw,
 * `1 === stylelite` and `0 === fast_login` compared strictly, a 300×400 iframe replacing the
 * container's content. Only the iframe's host differs: `qrconnectURL`.
 */
function renderWxLoginScript(qrconnectURL: string): string {
  return `/* WeChat emulator: a stand-in for https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js */
!function (window, document) {
  window.WxLogin = function (e) {
    var r = "default";
    !0 === e.self_redirect ? r = "true" : !1 === e.self_redirect && (r = "false");
    var i = document.createElement("iframe"),
      n = ${JSON.stringify(`${qrconnectURL}?appid=`)} + e.appid + "&scope=" + e.scope + "&redirect_uri=" + e.redirect_uri +
        "&state=" + e.state + "&login_type=jssdk&self_redirect=" + r + "&styletype=" + (e.styletype || "") +
        "&sizetype=" + (e.sizetype || "") + "&bgcolor=" + (e.bgcolor || "") + "&rst=" + (e.rst || "");
    n += e.style ? "&style=" + e.style : "";
    n += e.href ? "&href=" + e.href : "";
    n += "en" === e.lang ? "&lang=en" : "";
    n += 1 === e.stylelite ? "&stylelite=1" : "";
    n += 0 === e.fast_login ? "&fast_login=0" : "";
    i.src = n;
    i.frameBorder = "0";
    i.allowTransparency = "true";
    i.scrolling = "no";
    i.width = "300px";
    i.height = "400px";
    var l = document.getElementById(e.id);
    l.innerHTML = "";
    l.appendChild(i);
  };
}(window, document);
`;
}
