/**
 * The user's Lambda authorizer, run as Lambda runs it: a Node module exporting `handler`
 * (ESM or CommonJS; async, promise or callback style, or the legacy context.succeed/fail),
 * called with the event and a Lambda-like context. It runs in a worker thread, so
 * `console.log` in the authorizer goes to stderr (stdout stays the command's), a crash or
 * `process.exit` ends only the worker (restarted on the next request), and a hung
 * authorizer is cut at the timeout.
 */
import {Worker} from 'node:worker_threads';
import {resolve as resolvePath} from 'node:path';
import {preconditionError} from '../../lib/errors.js';

/** The worker: plain JavaScript run with `eval`, so the build needs no extra entry. */
const WORKER_SOURCE = `
const {parentPort, workerData} = require('node:worker_threads');
const {pathToFileURL} = require('node:url');
const loaded = import(pathToFileURL(workerData.file).href).then((m) => {
  const h = typeof m.handler === 'function' ? m.handler : m.default && typeof m.default.handler === 'function' ? m.default.handler : null;
  if (!h) throw Object.assign(new Error('exports no handler function'), {code: 'NO_HANDLER'});
  return h;
});
loaded.then(() => parentPort.postMessage({type: 'ready'}), (e) => parentPort.postMessage({type: 'load-error', code: e && e.code, message: String((e && e.message) || e)}));
const errorOf = (e) => ({name: e && e.name, message: e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e)});
parentPort.on('message', async (m) => {
  let settled = false;
  const finish = (error, result) => {
    if (settled) return;
    settled = true;
    if (error !== undefined && error !== null) return parentPort.postMessage({id: m.id, error: errorOf(error)});
    try {
      parentPort.postMessage({id: m.id, hasResult: result !== undefined, result: result === undefined ? null : JSON.parse(JSON.stringify(result))});
    } catch (e) {
      parentPort.postMessage({id: m.id, error: {message: 'the authorizer answer is not JSON: ' + e.message}});
    }
  };
  const deadline = Date.now() + m.timeoutMs;
  const context = {
    functionName: m.functionName, functionVersion: '$LATEST', invokedFunctionArn: m.functionArn, memoryLimitInMB: '128',
    awsRequestId: m.requestId, logGroupName: '/aws/lambda/' + m.functionName, logStreamName: 'local', callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (r) => finish(null, r), fail: (e) => finish(e || new Error('failed')), done: (e, r) => finish(e, r),
  };
  try {
    const h = await loaded;
    const ret = h(m.event, context, (e, r) => finish(e, r));
    if (ret && typeof ret.then === 'function') ret.then((r) => finish(null, r), (e) => finish(e === undefined || e === null ? new Error('rejected') : e));
    else if (h.length < 3 && ret !== undefined) finish(null, ret);
  } catch (e) {
    finish(e === undefined || e === null ? new Error('threw') : e);
  }
});
`;

/** What one invocation gave: the answer, or the error it threw / passed to the callback. */
export type InvokeResult = {ok: true; result: unknown} | {ok: false; error: {name?: string; message: string}};

export interface LoadedAuthorizer {
  file: string;
  /** Calls the handler; never rejects (errors, crashes and timeouts become `ok: false`). */
  invoke(event: unknown, requestId: string): Promise<InvokeResult>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (r: InvokeResult) => void;
  timer: NodeJS.Timeout;
}

/**
 * Loads the authorizer file and waits until its module is evaluated.
 * @throws MtlsKitError AUTHORIZER_NOT_LOADED (exit 4) naming the file and the reason
 *   (missing file, syntax error, no `handler` export).
 */
export async function loadAuthorizer(path: string, opts: {timeoutMs: number; log: (chunk: string) => void}): Promise<LoadedAuthorizer> {
  const file = resolvePath(path);
  const functionName = file.replace(/^.*[\\/]/, '').replace(/\.[cm]?js$/, '') || 'authorizer';
  let worker: Worker | null = null;
  let ready: Promise<void> | null = null;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;

  const failAll = (message: string): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.resolve({ok: false, error: {message}});
    }
  };
  const start = (): Promise<void> => {
    const w = new Worker(WORKER_SOURCE, {eval: true, workerData: {file}, stdout: true, stderr: true});
    worker = w;
    w.stdout.on('data', (d: Buffer) => opts.log(d.toString()));
    w.stderr.on('data', (d: Buffer) => opts.log(d.toString()));
    ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: {type?: string; code?: string; message?: string; id?: number; error?: {name?: string; message: string}; result?: unknown}) => {
        if (m.type === 'ready') return resolve();
        if (m.type === 'load-error') {
          const why =
            m.code === 'NO_HANDLER'
              ? 'it exports no handler function'
              : m.code === 'ERR_MODULE_NOT_FOUND' && m.message?.includes(file)
                ? 'the file does not exist'
                : (m.message ?? 'it failed to load').split('\n')[0]!;
          return reject(
            preconditionError('AUTHORIZER_NOT_LOADED', `cannot load the authorizer ${path}: ${why}`, [
              'the file must be a Node module exporting handler (exports.handler = async (event) => ... or export const handler = ...)',
            ]),
          );
        }
        const p = m.id === undefined ? undefined : pending.get(m.id);
        if (!p) return;
        clearTimeout(p.timer);
        pending.delete(m.id!);
        p.resolve(m.error ? {ok: false, error: m.error} : {ok: true, result: (m as {hasResult?: boolean}).hasResult ? m.result : undefined});
      });
      w.on('error', (e) => {
        reject(preconditionError('AUTHORIZER_NOT_LOADED', `the authorizer ${path} crashed: ${e.message}`));
        failAll(`the authorizer crashed: ${e.message}`);
      });
      w.on('exit', (code) => {
        if (worker === w) worker = null;
        reject(preconditionError('AUTHORIZER_NOT_LOADED', `the authorizer ${path} exited (code ${code}) while loading`));
        failAll(`the authorizer exited (code ${code})`);
      });
    });
    return ready;
  };
  await start();

  return {
    file,
    async invoke(event, requestId) {
      if (closed) return {ok: false, error: {message: 'the server is stopping'}};
      if (!worker) {
        try {
          await start();
        } catch (error) {
          return {ok: false, error: {message: (error as Error).message}};
        }
      }
      const id = nextId++;
      return new Promise<InvokeResult>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ok: false, error: {message: `the authorizer did not answer within ${opts.timeoutMs} ms`}});
        }, opts.timeoutMs);
        pending.set(id, {resolve, timer});
        worker!.postMessage({
          id,
          event,
          requestId,
          timeoutMs: opts.timeoutMs,
          functionName,
          functionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
        });
      });
    },
    async close() {
      closed = true;
      failAll('the server is stopping');
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
