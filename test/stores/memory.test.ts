import { memoryStore } from '../../src/persistence/index.js'
import { describeStoreConformance } from './conformance.js'

describeStoreConformance('memory', async () => ({ store: memoryStore(), cleanup: async () => {} }))
