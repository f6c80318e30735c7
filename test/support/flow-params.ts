/** Params for calling the CA flows in process, with gen-client's flag defaults. */
import type {GenClientParams} from '../../src/flows/gen-client.js';

/** gen-client's params for CA `dir` into `out`: one EC P-256 certificate for 30 days unless `extra` says otherwise. */
export function genClientParams(dir: string, out: string, extra: Partial<GenClientParams> = {}): GenClientParams {
  return {
    dir,
    out,
    fields: {cn: 'd-{n}'},
    sans: [],
    days: 30,
    keyType: 'ec-p256',
    count: undefined,
    p12: false,
    p12Legacy: false,
    p12PasswordFile: undefined,
    passphraseFile: undefined,
    force: false,
    defectKey: 'rsa-1024',
    ...extra,
  };
}
