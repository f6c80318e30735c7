/**
 * Reading passphrases and passwords: from a file (first line, trailing newline dropped)
 * or an environment variable. Never logged, never put in results.
 */
import {promises as fsp} from 'node:fs';
import {preconditionError, usageError} from '../lib/errors.js';

/**
 * Resolves a secret: `file` first, then the environment variable, else undefined.
 * @throws MtlsKitError SECRET_FILE_UNREADABLE (exit 4) / EMPTY_SECRET (exit 2).
 */
export async function resolveSecret(file: string | undefined, envVar: string, what: string): Promise<string | undefined> {
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
  }
  if (value !== undefined && value === '') {
    throw usageError('EMPTY_SECRET', `the ${what} ${file === undefined ? `in ${envVar}` : `in ${file}`} is empty`, [`put a non-empty ${what} there`]);
  }
  return value;
}
