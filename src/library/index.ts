/**
 * `mtls-kit` as a library (package.json exports "."): verify client certificates in the
 * application behind ALB (verify or passthrough mode) or API Gateway. No CLI code: oclif,
 * chalk and the AWS SDK are never loaded from here. Middleware: mtls-kit/express,
 * mtls-kit/fastify, mtls-kit/hono, mtls-kit/lambda. docs/library.md.
 */
export {
  createVerifier,
  type CreateVerifierOptions,
  type HeaderField,
  type HeaderMap,
  type HeaderSource,
  LIBRARY_CODES,
  type LibraryCode,
  type MaterialSource,
  type MtlsCode,
  type MtlsIdentity,
  type MtlsVerdict,
  type Product,
  type Verifier,
} from './verifier.js';
export {checkTokenBinding, type TokenBindingResult} from './token-binding.js';
export {type MiddlewareOptions, type RefusalBody, refusalFor} from './refusal.js';
