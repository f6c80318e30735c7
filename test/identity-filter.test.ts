import assert from 'node:assert/strict';
import {createPrivateKey} from 'node:crypto';
import {describe, it} from 'node:test';
import {createCa} from '../src/lib/pki/ca.js';
import {issueClientCert} from '../src/lib/pki/client-cert.js';
import {prepareTrustStore} from '../src/lib/alb/verify.js';
import {buildCrl, loadCrl} from '../src/lib/x509/crl.js';
import {KEY_TYPES} from '../src/lib/x509/profiles.js';
import {parseDnString} from '../src/lib/x509/names.js';
import type {SanInput} from '../src/lib/x509/issue.js';
import type {ParsedCertificate} from '../src/lib/x509/cert.js';
import {
  checkFilterValue,
  collectIdentityFilters,
  evaluateIdentityFilters,
  type FilterField,
  matchesValue,
  parseIdentityFilter,
  splitFilterFile,
  verifyNlbChain,
} from '../src/lib/nlb/identity-filter.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const ca = createCa({keyType: 'ec-p256', rootSubject: parseDnString('CN=Filter Test Root'), now: new Date('2026-11-01T00:00:00Z')});
const issuer = {cert: ca.root.cert, key: createPrivateKey(ca.root.keyPem), spec: KEY_TYPES['ec-p256'], chain: []};
const store = prepareTrustStore([ca.root.cert]);
let serial = 0x1000;

function client(dn: string, sans: SanInput[] = []): ParsedCertificate {
  serial++;
  return issueClientCert({
    issuer,
    keySpec: KEY_TYPES['ec-p256'],
    subject: parseDnString(dn),
    sans,
    days: 30,
    now: new Date('2026-11-20T00:00:00Z'),
    serialHex: serial.toString(16).toUpperCase(),
  }).parsed;
}

const filters = (...texts: string[]) => texts.map(parseIdentityFilter);

describe('identity filters: matching (aws-reference 9.3)', () => {
  const device = client('CN=Device-01,OU=Fleet A,OU=Sensors,O=Acme', [
    {type: 'dns', value: 'one.example.com'},
    {type: 'dns', value: 'Device-01.Example.COM'},
    {type: 'url', value: 'spiffe://Acme.Example/ns/Prod/sa/Client'},
    {type: 'url', value: 'https://user:PW@Host.Example:8443/Path?Q=1'},
  ]);
  const bare = client('O=Acme,CN=no-sans');

  const table: Array<{name: string; cert: ParsedCertificate; filters: string[]; matched: string | null}> = [
    {name: 'subject-cn exact, other case', cert: device, filters: ['subject-cn:exact:device-01'], matched: 'subject-cn:exact:device-01'},
    {name: 'subject-cn exact needs the whole value', cert: device, filters: ['subject-cn:exact:device-0'], matched: null},
    {name: 'subject-cn prefix, other case', cert: device, filters: ['subject-cn:prefix:DEVICE-'], matched: 'subject-cn:prefix:DEVICE-'},
    {name: 'subject-cn prefix longer than the value', cert: device, filters: ['subject-cn:prefix:device-01x'], matched: null},
    {name: 'subject-ou: the second OU matches', cert: device, filters: ['subject-ou:exact:sensors'], matched: 'subject-ou:exact:sensors'},
    {name: 'subject-ou with a space', cert: device, filters: ['subject-ou:prefix:fleet a'], matched: 'subject-ou:prefix:fleet a'},
    {name: 'subject O is not OU', cert: device, filters: ['subject-ou:exact:Acme'], matched: null},
    {
      name: 'san-dns: the second SAN matches, case-insensitively',
      cert: device,
      filters: ['san-dns:exact:device-01.example.com'],
      matched: 'san-dns:exact:device-01.example.com',
    },
    {name: 'san-dns prefix', cert: device, filters: ['san-dns:prefix:ONE.'], matched: 'san-dns:prefix:ONE.'},
    {name: 'san-dns is not the CN', cert: device, filters: ['san-dns:exact:device-01'], matched: null},
    {
      name: 'san-uri exact, scheme and host in other case',
      cert: device,
      filters: ['san-uri:exact:SPIFFE://acme.example/ns/Prod/sa/Client'],
      matched: 'san-uri:exact:SPIFFE://acme.example/ns/Prod/sa/Client',
    },
    {
      name: 'san-uri path differing only in case does not match',
      cert: device,
      filters: ['san-uri:exact:spiffe://acme.example/ns/prod/sa/client'],
      matched: null,
    },
    {name: 'san-uri prefix ending inside the host', cert: device, filters: ['san-uri:prefix:spiffe://ACME.ex'], matched: 'san-uri:prefix:spiffe://ACME.ex'},
    {name: 'san-uri prefix ending inside the path keeps path case', cert: device, filters: ['san-uri:prefix:spiffe://acme.example/ns/prod'], matched: null},
    {
      name: 'san-uri: userinfo is case-sensitive, host is not',
      cert: device,
      filters: ['san-uri:exact:HTTPS://user:PW@host.example:8443/Path?Q=1'],
      matched: 'san-uri:exact:HTTPS://user:PW@host.example:8443/Path?Q=1',
    },
    {
      name: 'san-uri: userinfo in other case does not match',
      cert: device,
      filters: ['san-uri:exact:https://USER:PW@host.example:8443/Path?Q=1'],
      matched: null,
    },
    {name: 'san-uri: query is case-sensitive', cert: device, filters: ['san-uri:exact:https://user:PW@host.example:8443/Path?q=1'], matched: null},
    {
      name: 'several filters: the one that matches is named',
      cert: device,
      filters: ['subject-cn:exact:other', 'san-uri:prefix:spiffe://acme.example/'],
      matched: 'san-uri:prefix:spiffe://acme.example/',
    },
    {name: 'no SANs against san-dns', cert: bare, filters: ['san-dns:prefix:n'], matched: null},
    {name: 'no SANs against san-uri', cert: bare, filters: ['san-uri:prefix:spiffe'], matched: null},
    {name: 'no OU against subject-ou', cert: bare, filters: ['subject-ou:prefix:A'], matched: null},
    {name: 'no SANs, but the CN filter matches', cert: bare, filters: ['san-dns:prefix:n', 'subject-cn:exact:NO-SANS'], matched: 'subject-cn:exact:NO-SANS'},
    {name: '* is an ordinary character', cert: device, filters: ['subject-cn:prefix:*'], matched: null},
  ];
  for (const t of table) {
    it(t.name, () => {
      const e = evaluateIdentityFilters(t.cert, filters(...t.filters));
      assert.equal(e.matched, t.matched, e.reason);
      assert.equal(e.admitted, t.matched !== null);
      if (t.matched === null) assert.match(e.reason, /^no identity filter matched/);
      else assert.match(e.reason, new RegExp(`^${t.matched.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} matched`));
    });
  }

  it('an empty list admits every certificate', () => {
    const e = evaluateIdentityFilters(bare, []);
    assert.equal(e.admitted, true);
    assert.equal(e.matched, null);
  });

  it('says why none matched: the values seen, or that the field is missing', () => {
    const e = evaluateIdentityFilters(bare, filters('san-dns:exact:a.example', 'subject-cn:exact:x'));
    assert.match(e.reason, /san-dns:exact:a\.example: the certificate has no DNS SAN/);
    assert.match(e.reason, /subject-cn:exact:x: subject CN "no-sans"/);
  });

  const caseRules: Array<[FilterField, 'exact' | 'prefix', string, string, boolean]> = [
    ['subject-cn', 'exact', 'ABC', 'abc', true],
    ['san-dns', 'exact', 'A.B', 'a.b', true],
    ['san-uri', 'exact', 'URN:Acme:X', 'urn:Acme:X', true],
    ['san-uri', 'exact', 'urn:acme:x', 'urn:Acme:X', false],
    ['san-uri', 'prefix', 'spiffe://[FE80::1]/A', 'spiffe://[fe80::1]/A', true],
    ['san-uri', 'prefix', 'spiffe://h/A', 'spiffe://h/a', false],
  ];
  for (const [field, mt, filterValue, certValue, ok] of caseRules) {
    it(`${field}:${mt}: "${filterValue}" vs "${certValue}" -> ${ok}`, () => assert.equal(matchesValue(field, mt, filterValue, certValue), ok));
  }
});

describe('identity filters: values and text form (aws-reference 9.3, 9.4)', () => {
  const bad: Array<[string, RegExp]> = [
    ['subject-cn:exact:', /empty/],
    [`subject-cn:exact:${'a'.repeat(257)}`, /257 characters long; at most 256/],
    ['subject-cn:exact:caf\u00e9', /non-ASCII character "é"/],
    ['subject-cn:exact:a\tb', /control character 0x09/],
    ['san-uri:prefix:1abc', /must start with a URI scheme/],
    ['san-uri:exact:sp_iffe://x', /must start with a URI scheme/],
    ['san-ip:exact:10.0.0.1', /unknown field "san-ip"/],
    ['subject-cn:suffix:x', /unknown match type "suffix"/],
    ['subject-cn', /is not FIELD:MATCH:VALUE/],
  ];
  for (const [text, why] of bad) it(`refuses ${text.slice(0, 40)}`, () => assert.throws(() => parseIdentityFilter(text), why));

  it('accepts 256 characters, spaces, colons in the value, and san-uri scheme characters', () => {
    assert.equal(parseIdentityFilter(`subject-cn:exact:${'a'.repeat(256)}`).value.length, 256);
    assert.deepEqual(parseIdentityFilter('san-uri:exact:spiffe://acme/a:b'), {
      field: 'san-uri',
      matchType: 'exact',
      value: 'spiffe://acme/a:b',
      action: 'accept',
    });
    assert.deepEqual(checkFilterValue('san-uri', 'coap+tcp.v-1://x'), []);
    assert.deepEqual(checkFilterValue('san-uri', 'spiffe'), []);
    assert.deepEqual(checkFilterValue('subject-ou', ' Fleet ~ A '), []);
  });

  it('reads filter files: lines with comments, and the AWS JSON list', () => {
    const lines = splitFilterFile('# devices\nsubject-cn:prefix:device-\n\nsan-uri:exact:spiffe://acme/x\r\n', 'f.txt');
    assert.deepEqual(lines, [
      {source: 'f.txt:2', text: 'subject-cn:prefix:device-'},
      {source: 'f.txt:4', text: 'san-uri:exact:spiffe://acme/x'},
    ]);
    const json = splitFilterFile(
      JSON.stringify({ClientCertificateIdentityFilters: [{Action: 'accept', Field: 'san-dns', MatchType: 'exact', Value: 'a.example'}]}),
      'f.json',
    );
    assert.deepEqual(json, [{source: 'f.json[0]', text: 'san-dns:exact:a.example'}]);
    const {filters: ok, problems} = collectIdentityFilters([...lines, {source: 'x', text: 'subject-cn:exact:'}]);
    assert.equal(ok.length, 2);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.source, 'x');
  });
});

describe('identity filters in NLB verification: trust store, then filters, then revocation (aws-reference 9.2)', () => {
  const good = client('CN=device-7');
  const revoked = client('CN=laptop-3');
  const crl = loadCrl(
    buildCrl({
      issuer: ca.root.cert,
      issuerKey: issuer.key,
      entries: [{serial: revoked.serialHex, revokedAt: new Date('2026-11-21T00:00:00Z')}],
      crlNumber: 1n,
      thisUpdate: new Date('2026-11-21T00:00:00Z'),
      nextUpdate: new Date('2026-12-21T00:00:00Z'),
    }).der,
    'crl.pem',
  );
  const other = createCa({keyType: 'ec-p256', rootSubject: parseDnString('CN=Other Root'), now: new Date('2026-11-01T00:00:00Z')});
  const foreign = issueClientCert({
    issuer: {cert: other.root.cert, key: createPrivateKey(other.root.keyPem), spec: KEY_TYPES['ec-p256'], chain: []},
    keySpec: KEY_TYPES['ec-p256'],
    subject: parseDnString('CN=device-9'),
    sans: [],
    days: 30,
    now: new Date('2026-11-20T00:00:00Z'),
    serialHex: '0ABC',
  }).parsed;
  const f = filters('subject-cn:prefix:device-');
  const run = (chain: ParsedCertificate[], identityFilters = f) => verifyNlbChain({chain, trustStore: store, crls: [crl], at: NOW, identityFilters});

  it('a matching, unrevoked certificate succeeds and names the filter', () => {
    const r = run([good]);
    assert.equal(r.status, 'Success');
    assert.equal(r.identityFilters?.matched, 'subject-cn:prefix:device-');
    const names = r.checks.map((c) => c.name);
    assert.ok(names.indexOf('identity-filter') < names.indexOf('revocation'), names.join(' '));
    assert.ok(names.indexOf('identity-filter') > names.lastIndexOf('validity'), names.join(' '));
  });

  it('a revoked certificate that matches no filter fails at the filter step', () => {
    const r = run([revoked]);
    assert.equal(r.status, 'Failed:IdentityFilterNoMatch');
    assert.match(r.checks.find((c) => c.name === 'identity-filter')!.detail, /subject CN "laptop-3"/);
  });

  it('a revoked certificate that matches a filter fails at revocation', () => {
    const r = run([revoked], filters('subject-cn:exact:LAPTOP-3'));
    assert.equal(r.status, 'Failed:ClientCertCrlHit');
  });

  it('an untrusted certificate fails at the trust store even when a filter matches', () => {
    const r = run([foreign]);
    assert.equal(r.status, 'Failed:ClientCertUntrusted');
    assert.equal(r.identityFilters?.matched, 'subject-cn:prefix:device-');
  });

  it('an empty list applies no filtering', () => {
    assert.equal(run([good], []).status, 'Success');
    assert.equal(run([revoked], []).status, 'Failed:ClientCertCrlHit');
  });

  it('expired fails at the trust store, before the filters', () => {
    const r = verifyNlbChain({chain: [revoked], trustStore: store, at: new Date('2027-06-01T00:00:00Z'), identityFilters: f});
    assert.equal(r.status, 'Failed:ClientCertExpired');
  });
});
