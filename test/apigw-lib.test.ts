import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {AuthorizerCache, evaluatePolicy, gatewayResponse, interpretAuthorizerResult} from '../src/lib/apigw/authorizer.js';
import {formatAccessLog, parseHeaderMappings, parseValueSource} from '../src/lib/apigw/context.js';
import {patchOperations, planApigwDeploy, type ApigwDomainState} from '../src/lib/apigw/deploy-plan.js';

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:api/test/GET/pets/1';
const stmt = (Effect: string, Resource: string | string[], Action: string | string[] = 'execute-api:Invoke') => ({Effect, Action, Resource});

describe('lib/apigw', () => {
  it('evaluatePolicy: explicit Deny wins, wildcards, case-insensitive Effect and Action, implicit deny', () => {
    assert.equal(evaluatePolicy({Statement: [stmt('allow', ARN)]}, ARN), 'allow');
    assert.equal(evaluatePolicy({Statement: stmt('Allow', 'arn:aws:execute-api:us-east-1:123456789012:api/*/GET/*')}, ARN), 'allow');
    assert.equal(evaluatePolicy({Statement: [stmt('Allow', '*'), stmt('Deny', '*/pets/?')]}, ARN), 'deny');
    assert.equal(evaluatePolicy({Statement: [stmt('Allow', ARN.replace('GET', 'POST'))]}, ARN), 'implicit-deny');
    assert.equal(evaluatePolicy({Statement: [stmt('Allow', ARN, 'EXECUTE-API:*')]}, ARN), 'allow');
    assert.deepEqual(evaluatePolicy({Statement: [stmt('Maybe', ARN)]}, ARN), {invalid: 'Effect "Maybe" is neither Allow nor Deny'});
    assert.ok(typeof evaluatePolicy(undefined, ARN) === 'object');
  });

  it('interpretAuthorizerResult: REST needs principalId; context values must be scalars; simple responses', () => {
    const policy = {Statement: [stmt('Allow', ARN)]};
    assert.deepEqual(interpretAuthorizerResult('rest', {principalId: 'p', policyDocument: policy, context: {a: 1, b: true}}, ARN), {
      kind: 'allow',
      principalId: 'p',
      context: {a: 1, b: true},
    });
    assert.equal(interpretAuthorizerResult('rest', {policyDocument: policy}, ARN).kind, 'error');
    assert.equal(interpretAuthorizerResult('http-iam', {policyDocument: policy}, ARN).kind, 'allow');
    assert.equal(interpretAuthorizerResult('rest', {principalId: 'p', policyDocument: policy, context: {x: [1]}}, ARN).kind, 'error');
    assert.deepEqual(interpretAuthorizerResult('http-simple', {isAuthorized: false}, ARN), {kind: 'deny', explicit: false, principalId: null});
    assert.equal(interpretAuthorizerResult('http-simple', {isAuthorized: 'yes'}, ARN).kind, 'error');
    assert.equal(
      gatewayResponse('rest', {kind: 'deny', explicit: false, principalId: null}).body,
      '{"Message":"User is not authorized to access this resource"}',
    );
    assert.equal(gatewayResponse('http-iam', {kind: 'error', message: 'x'}).status, 500);
  });

  it('AuthorizerCache: TTL on the given clock, no caching at TTL 0, bounded', () => {
    const c = new AuthorizerCache(1000, 2);
    c.set('a', {v: 1}, 0);
    assert.deepEqual(c.get('a', 999), {v: 1});
    assert.equal(c.get('a', 1000), undefined);
    c.set('a', 1, 0);
    c.set('b', 2, 0);
    c.set('c', 3, 0);
    assert.equal(c.get('a', 1), undefined);
    assert.equal(c.get('c', 1), 3);
    const off = new AuthorizerCache(0);
    off.set('a', 1, 0);
    assert.equal(off.get('a', 0), undefined);
  });

  it('--map-header forms and sources; access log escapes JSON and writes - for missing values', () => {
    assert.deepEqual(
      parseHeaderMappings(['integration.request.header.X-Client-Cert-Sub=context.authorizer.clientCertSub']).map((m) => [m.header, m.source]),
      [['X-Client-Cert-Sub', {kind: 'context', name: 'authorizer.clientCertSub'}]],
    );
    assert.deepEqual(parseHeaderMappings(['overwrite:header.X-Dn=$context.identity.clientCert.subjectDN'])[0]!.source, {
      kind: 'context',
      name: 'identity.clientCert.subjectDN',
    });
    assert.deepEqual(parseValueSource('method.request.header.Authorization'), {kind: 'header', name: 'authorization'});
    assert.deepEqual(parseValueSource("'static'"), {kind: 'literal', value: 'static'});
    assert.throws(() => parseHeaderMappings(['nope']), /is not NAME=SOURCE/);
    assert.throws(() => parseValueSource('stageVariables.x'), /is not a value source/);
    const line = formatAccessLog('{"dn":"$context.identity.clientCert.subjectDN","x":"$context.nothing"}', {
      'identity.clientCert.subjectDN': 'C=US,O=A\\, "B",CN=x',
    });
    assert.deepEqual(JSON.parse(line), {dn: 'C=US,O=A\\, "B",CN=x', x: '-'});
    assert.equal(formatAccessLog('$context.status $context.path', {status: '200', path: '/a'}), '200 /a');
  });

  it('planApigwDeploy and patchOperations: enable, new version, unchanged', () => {
    const domain: ApigwDomainState = {
      apiType: 'rest',
      name: 'd',
      status: 'AVAILABLE',
      endpointType: 'REGIONAL',
      securityPolicy: 'TLS_1_2',
      truststoreUri: null,
      truststoreVersion: null,
      warnings: [],
    };
    const object = {versioning: 'Enabled', exists: true, versionId: 'v1', sha256: 'aa'};
    const enable = planApigwDeploy({bucket: 'b', key: 'k', sha256: 'aa', object, domain});
    assert.equal(enable.upload.action, 'unchanged');
    assert.equal(enable.domain.action, 'enable');
    assert.deepEqual(patchOperations(enable.domain.from, enable.domain.to), [
      {op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: 's3://b/k'},
      {op: 'replace', path: '/mutualTlsAuthentication/truststoreVersion', value: 'v1'},
    ]);
    const same = planApigwDeploy({bucket: 'b', key: 'k', sha256: 'aa', object, domain: {...domain, truststoreUri: 's3://b/k', truststoreVersion: 'v1'}});
    assert.equal(same.changes, false);
    const changed = planApigwDeploy({bucket: 'b', key: 'k', sha256: 'bb', object, domain: {...domain, truststoreUri: 's3://b/k', truststoreVersion: 'v1'}});
    assert.equal(changed.upload.action, 'upload');
    assert.equal(changed.domain.action, 'update');
    assert.deepEqual(patchOperations(changed.domain.from, {truststoreUri: 's3://b/k', truststoreVersion: 'v2'}), [
      {op: 'replace', path: '/mutualTlsAuthentication/truststoreVersion', value: 'v2'},
    ]);
  });
});
