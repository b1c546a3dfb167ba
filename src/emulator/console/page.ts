/**
 * The console page: one HTML document with its style and script inlined under a fresh CSP nonce. The script is the
 * browser bundle of ./client/ (built by tsup.config.ts into `__SCFG_CONSOLE_APP__`); from source it is bundled on the
 * first request instead (./build-client.ts, esbuild from the dev dependencies).
 */
import { randomBytes } from 'node:crypto'
import { consoleStyle } from './style.js'

declare const __SCFG_CONSOLE_APP__: string | undefined

let script: Promise<string> | undefined

function clientScript(): Promise<string> {
  if (typeof __SCFG_CONSOLE_APP__ === 'string') return Promise.resolve(__SCFG_CONSOLE_APP__)
  // a computed specifier: the build must not follow it (the built package never bundles at runtime)
  const builder = './build-client.js'
  script ??= (import(/* @vite-ignore */ builder) as Promise<typeof import('./build-client.js')>).then((m) => m.bundleConsoleClient())
  return script
}

export async function renderPage(): Promise<{ html: string; nonce: string }> {
  // `</script` inside the bundle would end the inline script early
  const js = (await clientScript()).replace(/<\/(script)/gi, '<\\/$1')
  const nonce = randomBytes(16).toString('base64')
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>SCF local console · scf-graceful</title>
<style nonce="${nonce}">${consoleStyle}</style>
</head>
<body>
<div id="app"></div>
<noscript>The console needs JavaScript.</noscript>
<script nonce="${nonce}">${js}</script>
</body>
</html>`
  return { html, nonce }
}
