/**
 * Reading passphrases and passwords: from a file (first line, trailing newline dropped)
 * or an environment variable, for CI; at a terminal (stdin and stderr both a TTY), when
 * neither is given, from a hidden prompt on stderr (nothing echoed; a new secret typed twice).
 * Never logged, never put in results.
 */
import {promises as fsp} from 'node:fs';
import {ExitCode, isMtlsKitError, MtlsKitError, preconditionError, usageError} from '../lib/errors.js';

/** How to ask at a terminal when neither the file nor the variable holds the secret. */
export interface SecretPrompt {
  /** A new secret (it will encrypt something): typed twice, and the two must match. */
  confirm: boolean;
  /** An empty answer means "none" (gen-ca: an unencrypted key); else it is asked again. */
  allowEmpty?: boolean;
}

/** Whether a person is there to answer a prompt: stdin and stderr are both terminals. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Attempts at a prompt before giving up (empty answers, or two entries that differ). */
const PROMPT_ATTEMPTS = 3;

/**
 * Resolves a secret: `file` first, then the environment variable, then (with `prompt`, at a
 * terminal) a hidden prompt; else undefined.
 * @throws MtlsKitError SECRET_FILE_UNREADABLE (exit 4) / EMPTY_SECRET (exit 2) /
 *   SECRET_MISMATCH (exit 4, the two entries differed three times) / INTERRUPTED (Ctrl-C, 130).
 */
export async function resolveSecret(file: string | undefined, envVar: string, what: string, prompt?: SecretPrompt): Promise<string | undefined> {
  let value: string | undefined;
  if (file !== undefined) {
    try {
      value = (await fsp.readFile(file, 'utf8')).split(/\r?\n/)[0];
    } catch (error) {
      throw preconditionError('SECRET_FILE_UNREADABLE', `cannot read the ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, [
        `write the ${what} on the first line of ${file}`,
      ]);
    }
  } else if (process.env[envVar] !== undefined) {
    value = process.env[envVar];
  } else if (prompt && canPrompt()) {
    return askSecret(what, prompt);
  }
  if (value !== undefined && value === '') {
    throw usageError('EMPTY_SECRET', `the ${what} ${file === undefined ? `in ${envVar}` : `in ${file}`} is empty`, [`put a non-empty ${what} there`]);
  }
  return value;
}

/**
 * Runs `use` with the secret given; when it fails with PASSPHRASE_REQUIRED (an encrypted key
 * and no passphrase) and a person is at the terminal, asks for the passphrase (hidden, once)
 * and runs it again, up to three times while the answer is wrong (WRONG_PASSPHRASE).
 */
export async function withPassphrase<T>(given: string | undefined, what: string, use: (passphrase: string | undefined) => Promise<T>): Promise<T> {
  try {
    return await use(given);
  } catch (error) {
    if (given !== undefined || !canPrompt() || !isMtlsKitError(error) || error.code !== 'PASSPHRASE_REQUIRED') throw error;
  }
  for (let attempt = 1; ; attempt++) {
    const answer = await askSecret(what, {confirm: false});
    try {
      return await use(answer);
    } catch (error) {
      if (attempt >= PROMPT_ATTEMPTS || !isMtlsKitError(error) || error.code !== 'WRONG_PASSPHRASE') throw error;
      process.stderr.write(`wrong ${what}, try again\n`);
    }
  }
}

/** Asks at the terminal (see SecretPrompt); undefined only for an allowed empty answer. */
async function askSecret(what: string, prompt: SecretPrompt): Promise<string | undefined> {
  for (let attempt = 1; attempt <= PROMPT_ATTEMPTS; attempt++) {
    const first = await readHidden(`${what}${prompt.allowEmpty ? ' (empty for none)' : ''}: `);
    if (first === '') {
      if (prompt.allowEmpty) return undefined;
      process.stderr.write(`the ${what} cannot be empty\n`);
      continue;
    }
    if (!prompt.confirm) return first;
    const again = await readHidden(`${what} again: `);
    if (again === first) return first;
    process.stderr.write(`the two entries differ${attempt < PROMPT_ATTEMPTS ? ', try again' : ''}\n`);
  }
  throw preconditionError('SECRET_MISMATCH', `no ${what} was entered (empty, or the two entries differed ${PROMPT_ATTEMPTS} times)`, [
    `type it twice the same way, or give it in a file (--passphrase-file, --p12-password-file) for scripts`,
  ]);
}

/** One line from the terminal in raw mode, echoing nothing; Ctrl-C stops (exit 130), Ctrl-D ends the line. */
function readHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Raw (no echo) before the question shows: an answer typed at once is never echoed.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(
            new MtlsKitError({
              code: 'INTERRUPTED',
              message: 'stopped at the prompt (Ctrl-C); nothing was written',
              suggestions: [],
              exitCode: ExitCode.Interrupted,
            }),
          );
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
