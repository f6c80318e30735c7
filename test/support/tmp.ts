/**
 * Temporary folders that a test removes when it ends.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after} from 'node:test';

/** A fresh temp folder, removed after the current test file finishes. */
export function tempDir(prefix = 'mtls-kit-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(d, {recursive: true, force: true}));
  return d;
}
