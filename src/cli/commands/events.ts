// placeholder until the 'events' command lands; the dispatcher needs the module to exist
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write("error: 'scf-graceful events' is not available yet (SCFG_ERR_CLI_USAGE)\n")
  return 2
}
