// bare Node: server.close() on SIGTERM, exit when it calls back
import express from 'express'
import { instrument, slowRoute } from './common.mjs'

const app = express()
app.post('/event-invoke', express.json(), slowRoute)
const server = app.listen(Number(process.env.PORT), '0.0.0.0')
instrument(server)
process.on('SIGTERM', () => server.close(() => process.exit(0)))
