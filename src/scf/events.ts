/**
 * Event shapes of the common SCF triggers, as Tencent documents them (product 583, "Trigger Event Message
 * Structure Summary", and each trigger's page) and as the official Go library `tencentyun/scf-go-lib/events`
 * decodes them. Types only: nothing here exists at runtime.
 *
 * Where the docs and real payloads disagree (COS `eventTime` as seconds or as an ISO string, CMQ `msgTag` as an
 * array or a comma-joined string, API Gateway `queryString` values), the type accepts every documented form, so
 * code that narrows is correct against both. Fields seen in real payloads but missing from the summary page are
 * optional.
 */

/**
 * The event a timer (cron) trigger sends.
 *
 * @example
 * export const main_handler = graceful<TimerEvent>(async (event, context, inv) => {
 *   console.log(`${event.TriggerName} fired at ${event.Time}: ${event.Message}`)
 * })
 * // {"Type":"Timer","TriggerName":"EveryDay","Time":"2019-02-21T11:49:00Z","Message":"user define msg body"}
 */
export interface TimerEvent {
  Type: 'Timer'
  /** The trigger's name as configured on the function. */
  TriggerName: string
  /** When the trigger fired, ISO 8601 in UTC, e.g. `2019-02-21T11:49:00Z`. */
  Time: string
  /** The trigger's "additional information" (custom argument); an empty string when none is set. */
  Message: string
}

/**
 * The event a COS (object storage) trigger sends: one or more object notifications. COS always invokes the
 * function asynchronously.
 *
 * @example
 * export const main_handler = graceful<CosEvent>(async (event, context, inv) => {
 *   for (const record of event.Records) {
 *     inv.throwIfStopped()
 *     const { cosBucket, cosObject } = record.cos
 *     await thumbnail(cosBucket.name, cosObject.key, cosObject.size)
 *   }
 * })
 */
export interface CosEvent {
  Records: CosRecord[]
}

/**
 * One object notification inside a {@link CosEvent}.
 *
 * @example
 * const record: CosRecord = event.Records[0]!
 * if (record.event.eventName.startsWith('cos:ObjectRemove:')) forget(record.cos.cosObject.key)
 */
export interface CosRecord {
  cos: {
    /** `'1.0'`. */
    cosSchemaVersion: string
    cosObject: CosObject
    cosBucket: CosBucket
    /** The id of the bucket's notification rule (`'unknown'` or the id you set). */
    cosNotificationId: string
  }
  event: CosEventInfo
}

/**
 * The object a {@link CosRecord} is about.
 *
 * @example
 * const { key, size, url } = record.cos.cosObject // key: '/1253970026/testpic/testfile'
 */
export interface CosObject {
  /** Full URL of the object, e.g. `http://testpic-1253970026.cos.ap-chengdu.myqcloud.com/testfile`. */
  url: string
  /** Object metadata: `x-cos-request-id`, `Content-Type`, and any `x-cos-meta-*` user metadata. */
  meta: Record<string, string>
  /** Version id; an empty string when the bucket is not versioned. */
  vid: string
  /** `/<appid>/<bucket name>/<object key>`: note the appid and bucket prefix. */
  key: string
  /** Size in bytes. */
  size: number
}

/**
 * The bucket a {@link CosRecord} comes from.
 *
 * @example
 * const bucket = `${record.cos.cosBucket.name}-${record.cos.cosBucket.appid}` // 'testpic-1253970026'
 */
export interface CosBucket {
  /** Short region code as COS writes it (`'cd'`, `'bj'`, `'gz'`), not always the `ap-*` name. */
  region: string
  /** Bucket name without the `-<appid>` suffix. */
  name: string
  appid: string
}

/**
 * What happened to the object in a {@link CosRecord}.
 *
 * @example
 * const when = typeof record.event.eventTime === 'number' ? new Date(record.event.eventTime * 1000) : new Date(record.event.eventTime)
 */
export interface CosEventInfo {
  /** `cos:ObjectCreated:Put`, `cos:ObjectCreated:*`, `cos:ObjectRemove:Delete`, `cos:ObjectRestore:Completed`, ... */
  eventName: string
  /** `'1.0'`. */
  eventVersion: string
  /** `'qcs::cos'`. */
  eventSource: string
  /** Unix seconds in real payloads (`1545205770`); some doc pages show an ISO string. */
  eventTime: number | string
  /** The notification queue, e.g. `qcs:0:cos:gz:1251111111:cos`. Absent in some documented samples. */
  eventQueue?: string
  requestParameters: {
    /** The client's IP; may be an empty string. */
    requestSourceIP: string
    /** Headers of the request that caused the event (`Authorization` among them: do not log it). */
    requestHeaders: Record<string, string>
  }
  /** Internal request id (seen in real payloads, not in the summary page). */
  reqid?: number
  /** Reserved (seen in real payloads, not in the summary page). */
  reservedInfo?: string
}

/**
 * The event an API Gateway trigger sends (integration request). Return an {@link ApiGatewayResponse} when the
 * API has "integration response" enabled; otherwise whatever the handler returns becomes the body.
 *
 * @example
 * export const main_handler = graceful<ApiGatewayEvent, ApiGatewayResponse>(async (event) => {
 *   const name = event.queryStringParameters.name ?? 'world'
 *   return { isBase64Encoded: false, statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: `hello ${name}` }
 * })
 */
export interface ApiGatewayEvent {
  requestContext: ApiGatewayRequestContext
  /** Request headers as the gateway forwards them (names may be lower-cased). */
  headers: Record<string, string>
  /** The raw request body; absent for requests without one. Base64 when `isBase64Encoded` is true. */
  body?: string
  /** Values of `{param}` placeholders in the API's path. */
  pathParameters: Record<string, string>
  /** Query parameters declared in the API's configuration. */
  queryStringParameters: Record<string, string>
  /** Header parameters declared in the API's configuration. */
  headerParameters: Record<string, string>
  stageVariables?: Record<string, string>
  /** The full request path, e.g. `/test/value`. */
  path: string
  /**
   * Every query parameter: a string, an array for a repeated name (`?a=b&a=c`), or `true` for a bare flag (`?i`).
   */
  queryString: Record<string, string | string[] | true>
  httpMethod: string
  /** Set by gateways configured for binary bodies. */
  isBase64Encoded?: boolean
}

/**
 * The `requestContext` of an {@link ApiGatewayEvent}: which API and stage the request went through.
 *
 * @example
 * log.info(`request ${event.requestContext.requestId} via ${event.requestContext.serviceId}/${event.requestContext.stage}`)
 */
export interface ApiGatewayRequestContext {
  serviceId: string
  /** The API's path template, e.g. `/test/{path}`. */
  path: string
  /** The API's configured method (`'ANY'` for an any-method API), not necessarily the request's. */
  httpMethod: string
  /** The gateway's request id; absent in some real payloads. */
  requestId?: string
  /** `secretId` is present when the API uses key-pair authentication; otherwise `{}`. */
  identity: { secretId?: string; [key: string]: unknown }
  sourceIp: string
  /** `'release'`, `'prepub'` or `'test'`. */
  stage: string
}

/**
 * What an API Gateway function returns when the API has integration response enabled.
 *
 * @example
 * const res: ApiGatewayResponse = { isBase64Encoded: false, statusCode: 404, headers: { 'Content-Type': 'application/json' }, body: '{"error":"not found"}' }
 */
export interface ApiGatewayResponse {
  /** True when `body` is base64 of binary content. */
  isBase64Encoded: boolean
  statusCode: number
  headers: Record<string, string>
  body: string
}

/**
 * The event a CKafka trigger sends: a batch of 1..N messages of one topic (N is the trigger's "maximum
 * messages"). CKafka invokes the function synchronously and retries on error, so a stopped handler should
 * throw rather than half-process a batch.
 *
 * @example
 * export const main_handler = graceful<CkafkaEvent>(async (event, context, inv) => {
 *   for (const { Ckafka: msg } of event.Records) {
 *     inv.throwIfStopped()
 *     await handle(msg.topic, msg.partition, msg.offset, msg.msgBody)
 *   }
 * })
 */
export interface CkafkaEvent {
  Records: CkafkaRecord[]
}

/**
 * One message inside a {@link CkafkaEvent}.
 *
 * @example
 * const { topic, partition, offset, msgKey, msgBody } = record.Ckafka
 */
export interface CkafkaRecord {
  Ckafka: {
    topic: string
    partition: number
    offset: number
    /** The message key; the string `'None'` when the message had no key. */
    msgKey: string
    msgBody: string
  }
}

/**
 * The event a CMQ topic subscription sends (CMQ is now TDMQ CMQ; the shape is unchanged).
 *
 * @example
 * export const main_handler = graceful<CmqTopicEvent>(async (event) => {
 *   for (const { CMQ: msg } of event.Records) console.log(msg.topicName, msg.msgId, msg.msgBody)
 * })
 */
export interface CmqTopicEvent {
  Records: CmqTopicRecord[]
}

/**
 * One message inside a {@link CmqTopicEvent}.
 *
 * @example
 * const tags = Array.isArray(record.CMQ.msgTag) ? record.CMQ.msgTag : record.CMQ.msgTag.split(',')
 */
export interface CmqTopicRecord {
  CMQ: {
    /** `'topic'` (or `'queue'`). */
    type: 'topic' | 'queue' | (string & {})
    /** The topic owner's account id. */
    topicOwner: number
    topicName: string
    /** The subscription (the function) name. */
    subscriptionName: string
    /** ISO 8601, e.g. `1970-01-01T00:00:00.000Z`. */
    publishTime: string
    msgId: string
    requestId: string
    msgBody: string
    /** Tags: an array in some payloads, a comma-joined string in others. */
    msgTag: string[] | string
  }
}

/**
 * The event a CLS (log service) trigger sends. `clslogs.data` is base64 of gzip of JSON: decode it into a
 * {@link ClsLogData}.
 *
 * @example
 * import { gunzipSync } from 'node:zlib'
 * export const main_handler = graceful<ClsEvent>(async (event) => {
 *   const logs = JSON.parse(gunzipSync(Buffer.from(event.clslogs.data, 'base64')).toString()) as ClsLogData
 *   for (const r of logs.records) console.log(r.timestamp, r.content)
 * })
 */
export interface ClsEvent {
  clslogs: {
    /** base64(gzip(JSON of {@link ClsLogData})). */
    data: string
  }
}

/**
 * The decoded payload of a {@link ClsEvent}.
 *
 * @example
 * const first: ClsLogRecord | undefined = logs.records[0]
 */
export interface ClsLogData {
  topic_id: string
  topic_name: string
  records: ClsLogRecord[]
}

/**
 * One log line inside {@link ClsLogData}.
 *
 * @example
 * const at = new Date(Number(record.timestamp) / 1000) // microseconds
 */
export interface ClsLogRecord {
  /** Microseconds since the epoch, as a string (`'1605578090000000'`). */
  timestamp: string
  content: string
}
