import { createTerminus } from '@godaddy/terminus'
import express from 'express'
import { instrument, slowRoute } from './common.mjs'

const app = express()
app.post('/event-invoke', express.json(), slowRoute)
const server = app.listen(Number(process.env.PORT), '0.0.0.0')
instrument(server)
createTerminus(server, { signals: ['SIGTERM'], timeout: 10_000, useExit0: true })
