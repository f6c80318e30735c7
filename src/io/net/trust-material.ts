/**
 * The trust store and CRLs a server judges clients with, reloaded while it runs: when
 * their files change (fs.watch on their folders, so a file replaced by rename, as
 * `mtls-kit crl` writes it, is seen) and on demand (`serve` calls `reload` on SIGHUP).
 *
 * A reload reads and parses every file first and swaps only when all of them are good,
 * in one synchronous step, so a handshake is judged either entirely with the old material
 * or entirely with the new. A file that does not parse keeps the old material, and the
 * reason is reported. The swap is made in place (the `store` object and the `crls` array
 * keep their identity), so every listener holding them (verify, nlb, apigw) sees it.
 */
import {createHash} from 'node:crypto';
import {type FSWatcher, watch} from 'node:fs';
import {basename, dirname} from 'node:path';
import {isMtlsKitError, preconditionError} from '../../lib/errors.js';
import {loadCrl, type LoadedCrl, loadTrustStore, type TrustStore} from '../../lib/alb/verify.js';
import {readInput} from '../files.js';

/** Waits this long after the last change event before reloading (an editor writes in bursts). */
const SETTLE_MS = 150;

export interface TrustMaterialParams {
  /** The CA bundle. */
  bundlePath: string;
  crlPaths: string[];
  /** Told of each reload, and of each file that kept the old material (one line). */
  onReload?: (message: string) => void;
  /**
   * Told of what is odd in the material loaded, at start and on each reload that swaps it in
   * (a trust store holding a certificate that is not a CA): one line each. Default onReload.
   */
  onWarning?: (message: string) => void;
}

interface Parsed {
  store: TrustStore;
  crls: LoadedCrl[];
  digest: string;
  warnings: string[];
}

function describeError(error: unknown): string {
  if (isMtlsKitError(error)) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? (error as Error).message ?? String(error);
}

/**
 * Reads and parses everything.
 * @throws MtlsKitError naming the first file that cannot be read (FILE_NOT_FOUND, exit 4)
 *   or parsed (the parser's error).
 */
async function parseAll(bundlePath: string, crlPaths: string[]): Promise<Parsed> {
  const hash = createHash('sha256');
  const read = async (path: string, what: string): Promise<Uint8Array> => {
    try {
      const data = await readInput(path);
      hash.update(path).update('\0').update(data);
      return new Uint8Array(data);
    } catch (error) {
      // A folder or a URL keeps readInput's sentence; a missing file names what it was for.
      if (isMtlsKitError(error) && error.code !== 'FILE_NOT_FOUND') throw error;
      throw preconditionError('FILE_NOT_FOUND', `cannot read ${what} ${path}: ${isMtlsKitError(error) ? 'ENOENT' : describeError(error)}`, [
        `check ${what === 'the CRL' ? '--crl' : '--trust-store'}`,
      ]);
    }
  };
  const bundle = await read(bundlePath, 'the trust store');
  const {certs, store, warnings} = loadTrustStore(bundle, bundlePath, `pass it with --crl ${bundlePath}`);
  if (certs.length === 0)
    throw preconditionError('EMPTY_TRUST_STORE', `${bundlePath} holds no certificate`, ['point --trust-store at a PEM bundle of CA certificates']);
  const crls: LoadedCrl[] = [];
  for (const p of crlPaths) crls.push(loadCrl(await read(p, 'the CRL'), p));
  return {store, crls, digest: hash.digest('hex'), warnings};
}

/** The live trust material of a server, with reloads (see the top of this file). */
export class TrustMaterial {
  private digest: string;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** How many reloads swapped the material in. */
  reloads = 0;

  private constructor(
    private readonly p: TrustMaterialParams,
    /** The trust store; its contents change on reload, the object stays the same. */
    readonly store: TrustStore,
    /** The CRLs; the array's contents change on reload. */
    readonly crls: LoadedCrl[],
    digest: string,
  ) {
    this.digest = digest;
  }

  /**
   * Loads the files once.
   * @throws MtlsKitError naming the first file that cannot be read or parsed.
   */
  static async load(p: TrustMaterialParams): Promise<TrustMaterial> {
    const parsed = await parseAll(p.bundlePath, p.crlPaths);
    const material = new TrustMaterial(p, parsed.store, parsed.crls, parsed.digest);
    material.warn(parsed.warnings);
    return material;
  }

  private warn(lines: string[]): void {
    for (const line of lines) (this.p.onWarning ?? this.p.onReload)?.(line);
  }

  /** Watches the files' folders; a change to one of the files triggers a reload. */
  watch(): void {
    const byDir = new Map<string, Set<string>>();
    for (const f of [this.p.bundlePath, ...this.p.crlPaths]) {
      const d = dirname(f);
      if (!byDir.has(d)) byDir.set(d, new Set());
      byDir.get(d)!.add(basename(f));
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, {persistent: false}, (_event, name) => {
          if (name === null || names.has(name.toString())) this.schedule(`${name ?? 'a file'} changed`);
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch (error) {
        this.p.onReload?.(`cannot watch ${dir} for changes (${describeError(error)}); send SIGHUP to reload`);
      }
    }
  }

  private schedule(reason: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(reason), SETTLE_MS);
    this.timer.unref();
  }

  /**
   * Reads every file again and swaps the material in when all parse and something changed;
   * otherwise keeps the old and reports why. Never throws. Concurrent calls coalesce.
   */
  async reload(reason: string, explicit = false): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        const parsed = await parseAll(this.p.bundlePath, this.p.crlPaths);
        if (parsed.digest === this.digest) {
          // Asked for explicitly (SIGHUP): say so; a change event for identical bytes stays quiet.
          if (explicit) this.p.onReload?.(`the trust store and CRLs are unchanged (${reason})`);
          return;
        }
        // One synchronous step: no handshake is judged with half old, half new material.
        Object.assign(this.store, parsed.store);
        this.crls.splice(0, this.crls.length, ...parsed.crls);
        this.digest = parsed.digest;
        this.reloads++;
        const revoked = parsed.crls.reduce((n, c) => n + c.entryCount, 0);
        this.warn(parsed.warnings);
        this.p.onReload?.(
          `reloaded the trust store and CRLs (${reason}): ${parsed.store.certs.length} CA certificate${parsed.store.certs.length === 1 ? '' : 's'} from ${this.p.bundlePath}${parsed.crls.length ? `, ${parsed.crls.length} CRL${parsed.crls.length === 1 ? '' : 's'} with ${revoked} revoked serial${revoked === 1 ? '' : 's'}` : ''}`,
        );
      } catch (error) {
        this.p.onReload?.(`kept the previous trust store and CRLs (${reason}): ${describeError(error)}; fix the file and it is read again`);
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
    if (this.again) {
      this.again = false;
      await this.reload(reason, explicit);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
