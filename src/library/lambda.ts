/**
 * `mtls-kit/lambda`: wraps a Lambda handler for ALB target events and API Gateway REST
 * (payload 1.0) and HTTP API (payload 2.0) events. The verdict is `event.mtls`; a failed one
 * is answered 403 in the event's response format unless `onRefused: 'continue'`.
 */
import {type MiddlewareOptions, refusalFor} from './refusal.js';
import type {MtlsVerdict} from './verifier.js';

export type {MiddlewareOptions, RefusalBody} from './refusal.js';

/** The 403 response: ALB wants statusDescription; API Gateway refuses unknown keys in a proxy response. */
export interface LambdaRefusal {
  statusCode: 403;
  statusDescription?: '403 Forbidden';
  headers: {'content-type': 'application/json'};
  body: string;
  isBase64Encoded: false;
}

const isAlbEvent = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && typeof (e as {requestContext?: {elb?: unknown}}).requestContext?.elb === 'object';

/**
 * `export const handler = withMtls(async (event) => ..., {verifier})`.
 * The verifier is created once, outside the handler (cold start), and reused by every invocation.
 */
export function withMtls<E extends object, C, R>(
  handler: (event: E & {mtls: MtlsVerdict}, context: C) => Promise<R>,
  o: MiddlewareOptions,
): (event: E, context: C) => Promise<R | LambdaRefusal> {
  return async (event, context) => {
    const v = o.verifier.verifyEvent(event);
    const body = refusalFor(v, o);
    if (body)
      return {
        statusCode: 403,
        ...(isAlbEvent(event) ? {statusDescription: '403 Forbidden' as const} : {}),
        headers: {'content-type': 'application/json'},
        body: JSON.stringify(body),
        isBase64Encoded: false,
      };
    return handler(Object.assign(event, {mtls: v}), context);
  };
}
