/** Types shared by the harness (`scf-graceful/testing`) and the local emulator. */
import type { RuntimeName } from '../scf/runtimes.js'

export type FunctionMode = 'code' | 'image' | 'job'

export interface StartFunctionOptions {
  /**
   * The function's entry. Code mode: the file SCF's runtime require()s (CommonJS, as on SCF: an ES module entry fails
   * with SCFG_ERR_ENTRY_ESM), or the code's root folder with an SCF handler string in `handler`. Image and job modes:
   * the script `node` runs.
   */
  entry: string
  /**
   * The exported handler (code and job modes): an export name, or in code mode SCF's handler string `FILE.EXPORT`
   * (`index.main_handler` loads `index.js` from the entry's folder, or from `entry` itself when it is a folder).
   * @default 'main_handler'
   */
  handler?: string
  /** @default 'code' */
  mode?: FunctionMode
  /** Extra environment for the child (merged over SCF-like defaults and this process's PATH). */
  env?: Record<string, string>
  /**
   * The function's timeout: an invocation running longer gets status 433 and the instance is killed.
   * @default 3000 (SCF's default timeout is 3 s)
   */
  timeoutMs?: number
  /** @default 128 */
  memoryMb?: number
  /** Function name the context reports. @default basename of entry without extension */
  functionName?: string
  /** @default 'default' */
  namespace?: string
  /** @default '$LATEST' */
  qualifier?: string
  /** Use this directory as the instance's tmp dir (TMPDIR) instead of a fresh one. */
  tmpDir?: string
  /** Working directory of the child. @default dirname(entry) */
  cwd?: string
  /** Called with each log line the instance writes (stdout and stderr). */
  onLog?: (line: LogLine) => void
  /**
   * The Node.js the instance's process runs on: one of SCF's runtimes, exactly (`'Nodejs16.13'` = 16.13.0,
   * `'Nodejs18.15'` = 18.15.0, downloaded once into the runtimes cache, see `scf-graceful runtimes install`), or
   * `'host'`, the Node.js running the harness.
   * @default 'host'
   */
  runtime?: RuntimeName
}

export interface LogLine {
  stream: 'stdout' | 'stderr'
  line: string
  /** ms since epoch */
  time: number
  /** request id of the invocation running when the line was written, if exactly one was */
  requestId?: string
  /** The function wrote a line over 64 KiB: this is one piece of it (each piece at most 64 KiB). */
  cut?: true
  /**
   * Set on the harness's own marker at `logs[0]` once older lines were dropped (over 10,000 lines or 8 MiB): how many
   * lines are gone so far. Its `line` says it too.
   */
  dropped?: number
}

export interface InvokeOptions {
  /** @default a fresh UUID */
  requestId?: string
  /** Overrides the instance's timeoutMs for this invocation. */
  timeoutMs?: number
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * One instance of a function = one child process, as SCF would run it.
 * `invoke` resolves with the handler's result or rejects with an `InvocationError` that carries the SCF status code
 * (430 handler error, 433 timeout, 439 process exited while running, 499 terminated by force).
 */
export interface FunctionInstance {
  readonly id: string
  readonly mode: FunctionMode
  readonly pid: number | undefined
  /** The instance's private tmp dir (its TMPDIR, standing in for /tmp). */
  readonly tmpDir: string
  /**
   * Its log lines, oldest first: at least the last 10,000, but never more than 8 MiB of them (a line may be a 64 KiB
   * piece); the oldest go first. Once lines were dropped, `logs[0]` is a marker saying how many (`dropped`).
   */
  readonly logs: readonly LogLine[]
  /** Resolves when the child process has exited and its output has been read (never rejects). */
  readonly exited: Promise<ExitInfo>
  /** True while an invocation is running. */
  readonly busy: boolean
  /** True once the child has exited. */
  readonly isExited: boolean
  invoke(event: unknown, options?: InvokeOptions): Promise<unknown>
  /** Sends a signal to the child; false if it has already exited. */
  signal(name: NodeJS.Signals): boolean
  /**
   * grace true: SIGTERM, then wait for the process to exit (up to graceMs, then SIGKILL).
   * grace false: SIGKILL at once and wipe the tmp dir (SCF's force termination: the instance is recycled).
   */
  terminate(options?: { grace?: boolean; graceMs?: number }): Promise<ExitInfo>
  /** Ends the instance (SIGTERM, then SIGKILL after a bound) and removes its tmp dir unless it was given. */
  stop(): Promise<void>
}
