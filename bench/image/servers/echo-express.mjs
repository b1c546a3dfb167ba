import express from 'express'

const app = express()
app.post('/event-invoke', express.json({ limit: '6mb' }), (req, res) => res.json(req.body))
app.listen(Number(process.env.PORT), '0.0.0.0', () => console.log('READY'))
