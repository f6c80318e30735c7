/**
 * `logs` worker thread: summarises the local files the main thread hands it, one at a time,
 * and answers each with the summarizer's state (or the error, as data) for the main thread to
 * merge in input order (src/io/aws/log-sources.ts).
 */
import {parentPort, workerData} from 'node:worker_threads';
import {createLogSummarizer, type LogSummaryOptions} from '../../lib/alb/log-summary.js';
import {isMtlsKitError} from '../../lib/errors.js';
import {type LogsWorkerMessage, summarizeFile} from './log-sources.js';

const {summary} = workerData as {summary: LogSummaryOptions};

parentPort!.on('message', async (job: {index: number; path: string}) => {
  let msg: LogsWorkerMessage;
  try {
    const s = createLogSummarizer(summary);
    await summarizeFile(s, job.path);
    msg = {index: job.index, state: s.snapshot()};
    parentPort!.postMessage(msg, [msg.state.latencies.buffer as ArrayBuffer]);
    return;
  } catch (error) {
    msg = isMtlsKitError(error)
      ? {index: job.index, error: {code: error.code, message: error.message, suggestions: error.suggestions ?? [], exitCode: error.exitCode}}
      : {
          index: job.index,
          error: {code: 'LOGS_WORKER_FAILED', message: `reading ${job.path} failed: ${(error as Error).message}`, suggestions: [], exitCode: 1},
        };
  }
  parentPort!.postMessage(msg);
});
