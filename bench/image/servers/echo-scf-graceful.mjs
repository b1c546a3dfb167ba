import { serveEventFunction } from 'scf-graceful/express'

serveEventFunction(async (event) => event, { logger: false }).ready.then(() => console.log('READY'))
