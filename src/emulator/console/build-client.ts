/**
 * Bundles the console's browser code (./client/*.ts) into one script with esbuild. The build (tsup.config.ts) runs
 * this once and inlines the result into the server code as `__SCFG_CONSOLE_APP__`; running from source (the tests),
 * page.ts calls it on the first page request instead. esbuild is a build tool, never loaded by the built package.
 */
import { fileURLToPath } from 'node:url'

export const CONSOLE_CLIENT_ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url))

/** esbuild options for the browser bundle (shared by the build and the source fallback). */
export const consoleClientBuildOptions = {
  entryPoints: [CONSOLE_CLIENT_ENTRY],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  // what a developer's browser runs today; the page uses <dialog>, EventSource, CSS.escape
  target: ['chrome109', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'silent',
} as const

export async function bundleConsoleClient(): Promise<string> {
  const esbuild = (await import('esbuild')) as typeof import('esbuild')
  const result = await esbuild.build({ ...consoleClientBuildOptions, entryPoints: [...consoleClientBuildOptions.entryPoints], target: [...consoleClientBuildOptions.target] })
  return (result.outputFiles[0] as { text: string }).text
}
