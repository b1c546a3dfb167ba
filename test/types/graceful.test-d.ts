import { describe, expectTypeOf, it } from 'vitest'
import { graceful, type ApiGatewayEvent, type ApiGatewayResponse, type CkafkaEvent, type CosEvent, type Invocation, type ScfContext, type TimerEvent } from '../../src/index.js'

// The event types are public through the package entry, and graceful<TEvent>() types the handler's event with them.
describe('graceful() with trigger event types', () => {
  it('types a timer handler', () => {
    const main = graceful<TimerEvent>(async (event) => event.TriggerName)
    expectTypeOf(main).parameter(0).toEqualTypeOf<TimerEvent>()
    expectTypeOf(main).returns.resolves.toEqualTypeOf<unknown>()

    graceful<TimerEvent>(async (event, context, inv) => {
      expectTypeOf(event.Type).toEqualTypeOf<'Timer'>()
      expectTypeOf(event.Time).toEqualTypeOf<string>()
      expectTypeOf(context).toEqualTypeOf<ScfContext>()
      expectTypeOf(inv).toEqualTypeOf<Invocation>()
      expectTypeOf(inv.signal).toEqualTypeOf<AbortSignal>()
      expectTypeOf(inv.shouldStop).toEqualTypeOf<boolean>()
    })
  })

  it('rejects a field the event does not have', () => {
    // @ts-expect-error: a timer event has TriggerName, not triggerName
    graceful<TimerEvent>(async (event) => event.triggerName)
    // @ts-expect-error: Records belong to COS/CKafka events, not timer events
    graceful<TimerEvent>(async (event) => event.Records)
    // @ts-expect-error: the object size is a number
    graceful<CosEvent>(async (event) => event.Records[0]?.cos.cosObject.size.toUpperCase())
  })

  it('infers the result, and checks it against an explicit TResult', () => {
    const kafka = graceful(async (event: CkafkaEvent) => event.Records.map((r) => r.Ckafka.offset))
    expectTypeOf(kafka).parameter(0).toEqualTypeOf<CkafkaEvent>()
    expectTypeOf(kafka).returns.resolves.toEqualTypeOf<number[]>()

    const api = graceful<ApiGatewayEvent, ApiGatewayResponse>(async (event) => ({
      isBase64Encoded: false,
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain' },
      body: `hello ${event.queryStringParameters.name ?? 'world'}`,
    }))
    expectTypeOf(api).returns.resolves.toEqualTypeOf<ApiGatewayResponse>()

    // @ts-expect-error: statusCode must be a number in an integration response
    graceful<ApiGatewayEvent, ApiGatewayResponse>(async () => ({ isBase64Encoded: false, statusCode: '200', headers: {}, body: '' }))
  })
})
