import { ScfGracefulError } from '../errors.js'
import type { ProcessHost } from './instance.js'
import type { FunctionInstance } from './types.js'

// placeholder until the image mode lands (issue 5); startFunction({ mode: 'image' }) fails clearly meanwhile
export async function startImageInstance(_host: ProcessHost): Promise<FunctionInstance> {
  throw new ScfGracefulError('SCFG_ERR_INVALID_OPTION', "mode 'image' is not available yet")
}
