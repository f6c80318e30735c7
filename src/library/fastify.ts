/**
 * `mtls-kit/fastify`: a plugin whose onRequest hook verifies the client certificate in the
 * request headers and sets `request.mtls` to the verdict. Fastify is a peer dependency:
 * nothing here imports it (structural types only).
 */
import {type MiddlewareOptions, refusalFor} from './refusal.js';
import type {MtlsVerdict} from './verifier.js';

export type {MiddlewareOptions, RefusalBody} from './refusal.js';

interface FastifyRequestLike {
  raw: {rawHeaders: string[]};
  mtls?: MtlsVerdict | null;
}
interface FastifyReplyLike {
  code(status: number): {send(body: unknown): unknown};
}
/** What the plugin needs of a Fastify instance. */
export interface FastifyInstanceLike {
  decorateRequest(name: string, value: null): unknown;
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/**
 * `await app.register(mtls({verifier}))`: `request.mtls` holds the verdict on every route of
 * the app (the plugin does not get its own encapsulation context, as fastify-plugin does it);
 * a failed one is answered 403 `{"error", "status", "code", "why"}` unless `onRefused: 'continue'`.
 */
export function mtls(o: MiddlewareOptions): (fastify: FastifyInstanceLike, opts: unknown) => Promise<void> {
  const plugin = async (fastify: FastifyInstanceLike): Promise<void> => {
    fastify.decorateRequest('mtls', null);
    fastify.addHook('onRequest', async (request, reply) => {
      const v = o.verifier.verifyHeaders(request.raw.rawHeaders);
      request.mtls = v;
      const body = refusalFor(v, o);
      // An async hook that answered returns the reply (Fastify docs, Hooks).
      if (body) return reply.code(403).send(body);
      return undefined;
    });
  };
  // What fastify-plugin sets: the hook applies to the parent, not only inside the plugin.
  Object.assign(plugin, {[Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'mtls-kit'});
  return plugin;
}
