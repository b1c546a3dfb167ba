import { describe, expectTypeOf, it } from 'vitest'
import type {
  ApiGatewayEvent,
  ApiGatewayResponse,
  ClsEvent,
  ClsLogData,
  CkafkaEvent,
  CkafkaRecord,
  CmqTopicEvent,
  CosEvent,
  CosRecord,
  TimerEvent,
} from '../../src/scf/events.js'

// Samples as Tencent's trigger docs print them: each must be assignable to its type as written.
const timer = { Type: 'Timer', TriggerName: 'EveryDay', Time: '2019-02-21T11:49:00Z', Message: 'user define msg body' } as const

const cos = {
  Records: [
    {
      cos: {
        cosSchemaVersion: '1.0',
        cosObject: {
          url: 'http://testpic-1253970026.cos.ap-chengdu.myqcloud.com/testfile',
          meta: { 'x-cos-request-id': 'NWMxOWY4MGFfMjViMjU4NjRfMTUyMV8yNzhhZjM=', 'Content-Type': '' },
          vid: '',
          key: '/1253970026/testpic/testfile',
          size: 1029,
        },
        cosBucket: { region: 'cd', name: 'testpic', appid: '1253970026' },
        cosNotificationId: 'unknown',
      },
      event: {
        eventName: 'cos:ObjectCreated:*',
        eventVersion: '1.0',
        eventTime: 1545205770,
        eventSource: 'qcs::cos',
        eventQueue: 'qcs:0:cos:gz:1251111111:cos',
        requestParameters: { requestSourceIP: '192.168.15.101', requestHeaders: { Authorization: 'q-sign-algorithm=sha1' } },
        reqid: 149708785,
        reservedInfo: '',
      },
    },
  ],
}

const apigw = {
  requestContext: {
    serviceId: 'service-f94sy04v',
    path: '/test/{path}',
    httpMethod: 'POST',
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    identity: { secretId: 'abdcdxxxxxxxsdfs' },
    sourceIp: '10.0.2.14',
    stage: 'release',
  },
  headers: { Accept: 'text/html', Host: 'service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com' },
  body: '{"test":"body"}',
  pathParameters: { path: 'value' },
  queryStringParameters: { foo: 'bar' },
  headerParameters: { Refer: '10.0.2.14' },
  stageVariables: { stage: 'release' },
  path: '/test/value',
  queryString: { foo: 'bar', bob: 'alice' },
  httpMethod: 'POST',
}

// a real GET payload: no body, no requestId, empty identity, repeated and bare query parameters
const apigwGet = {
  headerParameters: {},
  headers: { host: 'service-xxx-123456.ap-shanghai.apigateway.myqcloud.com' },
  httpMethod: 'GET',
  path: '/apigw-test',
  pathParameters: {},
  queryString: { a: ['b', 'c'], x: 'y', i: true as const },
  queryStringParameters: {},
  requestContext: { httpMethod: 'ANY', identity: {}, path: '/apigw-test', serviceId: 'service-xxx', sourceIp: '8.8.8.8', stage: 'test' },
}

const ckafka = {
  Records: [
    { Ckafka: { topic: 'test-topic', partition: 1, offset: 36, msgKey: 'None', msgBody: 'Hello from Ckafka!' } },
    { Ckafka: { topic: 'test-topic', partition: 1, offset: 37, msgKey: 'None', msgBody: 'Hello from Ckafka again!' } },
  ],
}

const cmq = {
  Records: [
    {
      CMQ: {
        type: 'topic',
        topicOwner: 1200000000,
        topicName: 'testtopic',
        subscriptionName: 'xxxxxx',
        publishTime: '1970-01-01T00:00:00.000Z',
        msgId: '123345346',
        requestId: '123345346',
        msgBody: 'Hello from CMQ!',
        msgTag: 'tag1,tag2',
      },
    },
  ],
}

describe('trigger event types', () => {
  it('accepts the documented samples', () => {
    expectTypeOf(timer).toExtend<TimerEvent>()
    expectTypeOf(cos).toExtend<CosEvent>()
    expectTypeOf(apigw).toExtend<ApiGatewayEvent>()
    expectTypeOf(apigwGet).toExtend<ApiGatewayEvent>()
    expectTypeOf(ckafka).toExtend<CkafkaEvent>()
    expectTypeOf(cmq).toExtend<CmqTopicEvent>()
    expectTypeOf({ clslogs: { data: 'H4sIAAAAAAAA' } }).toExtend<ClsEvent>()
  })

  it('types the fields a handler reads', () => {
    expectTypeOf<TimerEvent['Type']>().toEqualTypeOf<'Timer'>()
    expectTypeOf<TimerEvent['TriggerName']>().toEqualTypeOf<string>()
    expectTypeOf<CosEvent['Records']>().toEqualTypeOf<CosRecord[]>()
    expectTypeOf<CosRecord['cos']['cosObject']['size']>().toEqualTypeOf<number>()
    expectTypeOf<CosRecord['cos']['cosBucket']['appid']>().toEqualTypeOf<string>()
    expectTypeOf<CosRecord['event']['eventTime']>().toEqualTypeOf<number | string>()
    expectTypeOf<CosRecord['event']['requestParameters']['requestHeaders']>().toEqualTypeOf<Record<string, string>>()
    expectTypeOf<CkafkaEvent['Records'][number]>().toEqualTypeOf<CkafkaRecord>()
    expectTypeOf<CkafkaRecord['Ckafka']['offset']>().toEqualTypeOf<number>()
    expectTypeOf<ApiGatewayEvent['body']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<ApiGatewayEvent['isBase64Encoded']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<ApiGatewayEvent['requestContext']['stage']>().toEqualTypeOf<string>()
    expectTypeOf<ClsLogData['records'][number]['timestamp']>().toEqualTypeOf<string>()
  })

  it('rejects wrong shapes', () => {
    expectTypeOf({ ...timer, Type: 'Cron' as const }).not.toExtend<TimerEvent>()
    expectTypeOf({ TriggerName: 'x', Time: 't', Message: '' }).not.toExtend<TimerEvent>()
    expectTypeOf({ Records: [{ Ckafka: { topic: 't', partition: '1', offset: 1, msgKey: 'k', msgBody: 'b' } }] }).not.toExtend<CkafkaEvent>()
    expectTypeOf({ Records: [{ cos: cos.Records[0]!.cos }] }).not.toExtend<CosEvent>()
    // @ts-expect-error: the COS record has no top-level bucket name
    expectTypeOf<CosRecord['bucket']>()
    // @ts-expect-error: CKafka records are under `Ckafka`, not `kafka`
    expectTypeOf<CkafkaRecord['kafka']>()
  })

  it('types the integration response', () => {
    const ok: ApiGatewayResponse = { isBase64Encoded: false, statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: 'hi' }
    expectTypeOf(ok.statusCode).toEqualTypeOf<number>()
    expectTypeOf({ statusCode: 200, body: 'hi' }).not.toExtend<ApiGatewayResponse>()
    expectTypeOf({ isBase64Encoded: false, statusCode: '200', headers: {}, body: '' }).not.toExtend<ApiGatewayResponse>()
  })
})
