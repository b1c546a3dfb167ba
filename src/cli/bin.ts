#!/usr/bin/env node
// The command line tool and the emulator need Node.js 20 (util.parseArgs, fetch, better-sqlite3 12, tested there);
// the library's runtime entries run on 16.13+. On older Node, one clear line instead of a stack trace from deep inside.
const major = Number(process.versions.node.split('.')[0])
if (major < 20) {
  process.stderr.write(`scf-graceful: the command line tool needs Node.js 20 or newer, this is ${process.version} (functions that use the library run on Node.js 16.13 and up)\n`)
  process.exitCode = 1
} else {
  await import('./index.js')
}
export {}
