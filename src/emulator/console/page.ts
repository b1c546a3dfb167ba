/** The console page: one HTML document with its style and script inlined under a fresh CSP nonce. */
import { randomBytes } from 'node:crypto'
import { consoleApp } from './client.js'
import { consoleStyle } from './style.js'

// the client function's source, compiled once (the build strips its types)
const script = `(${consoleApp.toString()})()`

export function renderPage(): { html: string; nonce: string } {
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
<script nonce="${nonce}">${script}</script>
</body>
</html>`
  return { html, nonce }
}
