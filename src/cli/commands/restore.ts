// `scf-graceful restore`: the same options as snapshot (see ./snapshot.ts).
import { runPersistCommand } from './snapshot.js'

export function run(argv: string[]): Promise<number> {
  return runPersistCommand('restore', argv)
}
