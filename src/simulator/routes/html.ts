import type { FastifyReply } from 'fastify'

/**
 * The shell of the simulator's stand-ins for Recharge's hosted pages (customer portal, checkout): one small
 * self-contained HTML document, no scripts, no external resources. The URL carries the credential (customer hash,
 * checkout token), so the page is never cached and never leaks its URL through a Referer.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

export function hostedPageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .type('text/html; charset=utf-8')
}

/** A whole page. `product` names the stand-in ("Recharge checkout"); `title` and `body` are the page's own. */
export function hostedPage(product: string, title: string, body: string): string {
  const label = `${product} (simulator)`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · ${escapeHtml(label)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="label">${escapeHtml(label)}</p>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--card:#fff;--bg:#f5f6f8;--accent:#3b5bdb;--ok:#1f7a4d}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8ec;--muted:#98a2b3;--line:#2e3440;--card:#1b1f27;--bg:#12151b;--accent:#8ea2ff;--ok:#5cc794}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:46rem;margin:2.5rem auto;padding:2rem;background:var(--card);border:1px solid var(--line);border-radius:12px}
h1{margin:.2rem 0 1.2rem;font-size:1.6rem}
h2{margin:1.6rem 0 .5rem;font-size:1.05rem}
.label{margin:0;color:var(--muted);font-size:.8rem;letter-spacing:.04em;text-transform:uppercase}
.muted{color:var(--muted)}
.status{display:inline-block;padding:.15rem .6rem;border-radius:999px;font-size:.85rem;border:1px solid var(--line)}
.status.paid{color:var(--ok);border-color:currentColor}
table{width:100%;border-collapse:collapse}
th,td{padding:.55rem .4rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:500;font-size:.85rem}
.num{text-align:right;white-space:nowrap}
.totals td{border:0;padding:.25rem .4rem}
.totals tr.grand td{border-top:2px solid var(--fg);padding-top:.6rem;font-weight:600;font-size:1.1rem}
address{font-style:normal}
`
