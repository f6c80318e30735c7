/**
 * The user's Lambda authorizer, run as Lambda runs it: a Node module exporting `handler`
 * (ESM or CommonJS; async, promise or callback style, or the legacy context.succeed/fail),
 * called with the event and a Lambda-like context. It runs in a cage, a worker thread:
 * - `console.log` in the authorizer goes to stderr (stdout stays the command's);
 * - a crash or `process.exit` ends only the worker, replaced on the next request;
 * - an invocation that does not answer within the timeout (a synchronous loop included)
 *   has its worker terminated and replaced: that request gets a 500, the next a fresh worker;
 * - the worker's heap is limited (`AUTHORIZER_MEMORY_MB`, Lambda's smallest memory size);
 *   past it the worker dies, that request gets a 500;
 * - `process.kill` cannot signal the server's own process (nor its group), and
 *   `process.abort` is not available in a worker.
 * A worker thread shares the process: code that loads `child_process` to run `kill` is
 * not stopped by this cage (docs/serve.md says so).
 */
import {Worker} from 'node:worker_threads';
import {resolve as resolvePath} from 'node:path';
import {preconditionError} from '../../lib/errors.js';

/** The worker: plain JavaScript run with `eval`, so the build needs no extra entry. */
const WORKER_SOURCE = `
const {parentPort, workerData} = require('node:worker_threads');
// The authorizer cannot signal the server: its own pid, 0 and negative pids (process groups) are refused.
const realKill = process.kill.bind(process);
process.kill = (pid, signal) => {
  const n = Number(pid);
  if (n === process.pid || n === process.ppid || n <= 0 || !Number.isFinite(n)) {
    const e = new Error('process.kill(' + pid + ') is not allowed in an authorizer: it would signal mtls-kit serve');
    e.code = 'EPERM';
    throw e;
  }
  return realKill(pid, signal);
};
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
  /** The worker running it: when that worker dies, only its invocations fail. */
  worker: Worker;
}

/** The worker's heap limit in MB: Lambda's smallest memory size (128 MB). */
export const AUTHORIZER_MEMORY_MB = 128;

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

  const failAll = (message: string, of?: Worker): void => {
    for (const [id, p] of pending) {
      if (of && p.worker !== of) continue;
      clearTimeout(p.timer);
      pending.delete(id);
      p.resolve({ok: false, error: {message}});
    }
  };
  const start = (): Promise<void> => {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {file},
      stdout: true,
      stderr: true,
      resourceLimits: {maxOldGenerationSizeMb: AUTHORIZER_MEMORY_MB, maxYoungGenerationSizeMb: 16},
    });
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
      w.on('error', (e: NodeJS.ErrnoException) => {
        if (worker === w) worker = null;
        reject(preconditionError('AUTHORIZER_NOT_LOADED', `the authorizer ${path} crashed: ${e.message}`));
        failAll(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `the authorizer ran out of memory (limit ${AUTHORIZER_MEMORY_MB} MB) and was replaced`
            : `the authorizer crashed: ${e.message}`,
          w,
        );
      });
      w.on('exit', (code) => {
        if (worker === w) worker = null;
        reject(preconditionError('AUTHORIZER_NOT_LOADED', `the authorizer ${path} exited (code ${code}) while loading`));
        failAll(`the authorizer exited (code ${code})`, w);
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
      const w = worker!;
      return new Promise<InvokeResult>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ok: false, error: {message: `the authorizer did not answer within ${opts.timeoutMs} ms; its worker was terminated and is replaced`}});
          // A stuck worker (a synchronous loop answers nothing, ever) is terminated; the next
          // request starts a fresh one. Other requests waiting on it fail with it.
          if (worker === w) worker = null;
          void w.terminate();
        }, opts.timeoutMs);
        pending.set(id, {resolve, timer, worker: w});
        w.postMessage({
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
