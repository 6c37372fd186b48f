/**
 * The demo's HTML: one page layout, and the escaping every value from WeChat (or from a client)
 * goes through before it reaches a page. Shared by app.ts and posted-code.ts.
 */

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;background:#f5f5f5;color:#191919;margin:0;padding:24px 16px}
main{max-width:760px;margin:0 auto;background:#fff;border-radius:8px;padding:20px 32px 28px;box-shadow:0 1px 3px #0002}
header{display:flex;align-items:center;justify-content:space-between;gap:16px;margin-bottom:12px}
h1{font-size:22px;margin:0}h2{font-size:15px;margin:20px 0 8px}nav{display:flex;align-items:center;gap:12px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee}
th{width:120px;color:#666;font-weight:500}td{word-break:break-all}code{font:14px ui-monospace,monospace}
img{border-radius:6px;display:block}pre{background:#f7f7f7;padding:12px;border-radius:6px;font-size:12px;line-height:1.4;overflow:auto;margin:0}
a{color:#576b95}.button{display:inline-block;background:#07c160;color:#fff;padding:8px 18px;border-radius:4px;text-decoration:none}
.error{color:#c62828}button{font:inherit;font-size:14px;padding:4px 12px;cursor:pointer}
.button.secondary{background:#fff;color:#07c160;border:1px solid #07c160;margin-left:8px}
.qr{width:300px;height:400px;margin:8px 0}.note{color:#666;font-size:14px}
.sim{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}.result{flex:1;min-width:260px}
.phone{width:300px;border:10px solid #191919;border-radius:30px;background:#ededed;overflow:hidden}
.phone .bar{text-align:center;font-size:14px;font-weight:500;padding:10px 8px;border-bottom:1px solid #ddd;background:#f7f7f7}
.phone .screen{padding:12px 14px;min-height:360px;font-size:14px}.phone fieldset{border:0;padding:0;margin:0 0 8px}.phone label{display:block;padding:2px 0}
.phone button{display:block;width:100%;margin:8px 0;padding:8px;border-radius:6px;border:1px solid #d9d9d9;background:#fff}
.phone button.primary{background:#07c160;border-color:#07c160;color:#fff}.phone ol{padding-left:18px;font-size:12px;color:#666;word-break:break-all}`;

/** A whole page: the title as heading, `nav` on its right, then `body`. */
export function page(title: string, body: string, nav = ''): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>
<body><main><header><h1>${escapeHtml(title)}</h1><nav>${nav}</nav></header>${body}</main></body></html>`;
}

export function row(name: string, html: string): string {
  return `<tr><th scope="row">${name}</th><td>${html}</td></tr>`;
}

export function mono(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}

/**
 * JSON for a `<script type="application/json">` element: `<` escaped, so no value can close the
 * element (`</script>`) or open a comment; `JSON.parse` reads `\u003c` back as `<`.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026');
}

/** Every WeChat value (a nickname is user input) goes through this before it reaches HTML. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
