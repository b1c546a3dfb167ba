import express from 'express'
import { createHttpTerminator } from 'http-terminator'
import { instrument, slowRoute } from './common.mjs'

const app = express()
app.post('/event-invoke', express.json(), slowRoute)
const server = app.listen(Number(process.env.PORT), '0.0.0.0')
instrument(server)
const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: 10_000 })
process.on('SIGTERM', () => terminator.terminate().then(() => process.exit(0)))
