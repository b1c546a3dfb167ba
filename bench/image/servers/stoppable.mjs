import express from 'express'
import stoppable from 'stoppable'
import { instrument, slowRoute } from './common.mjs'

const app = express()
app.post('/event-invoke', express.json(), slowRoute)
const server = stoppable(app.listen(Number(process.env.PORT), '0.0.0.0'), 10_000)
instrument(server)
process.on('SIGTERM', () => server.stop(() => process.exit(0)))
