import { ScfGracefulError } from '../errors.js'
import type { ProcessHost } from './instance.js'
import type { FunctionInstance } from './types.js'

// placeholder until the job mode lands (issue 5); startFunction({ mode: 'job' }) fails clearly meanwhile
export async function startJobInstance(_host: ProcessHost): Promise<FunctionInstance> {
  throw new ScfGracefulError('SCFG_ERR_INVALID_OPTION', "mode 'job' is not available yet")
}
