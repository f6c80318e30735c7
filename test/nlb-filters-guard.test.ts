/**
 * The NLB filter middleware adds ClientCertificateIdentityFilters to the form body only when the
 * SDK did not serialise them already (aws-reference 9.9): today's SDK lacks the member, so the
 * middleware adds the list once; a request that already carries it (a future SDK, stood in for
 * by a middleware that serialises the list before ours) is left as it is, never sent twice.
 */
import assert from 'node:assert/strict';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {after, before, describe, it} from 'node:test';
import {CreateListenerCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2';
import {addNlbFilterMiddleware, appendFilterParams, bodyHasFilters, filterFormParams} from '../src/io/aws/nlb-filters-wire.js';

const MEMBER = 'MutualAuthentication.ClientCertificateIdentityFilters';
const FILTER = {Action: 'accept', Field: 'san-dns', MatchType: 'exact', Value: 'a.example'};
const bodies: string[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    bodies.push(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, {'content-type': 'text/xml'});
    res.end(
      '<CreateListenerResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><CreateListenerResult><Listeners><member>' +
        '<ListenerArn>arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/n/1/2</ListenerArn><MutualAuthentication><Mode>verify</Mode></MutualAuthentication>' +
        '</member></Listeners></CreateListenerResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></CreateListenerResponse>',
    );
  });
});
let endpoint = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const client = (): ElasticLoadBalancingV2Client => {
  const c = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint, credentials: {accessKeyId: 't', secretAccessKey: 't'}, maxAttempts: 1});
  addNlbFilterMiddleware(c);
  return c;
};
const command = () =>
  new CreateListenerCommand({
    LoadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/n/1',
    Protocol: 'TLS',
    Port: 443,
    DefaultActions: [{Type: 'forward', TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1'}],
    MutualAuthentication: {Mode: 'verify', TrustStoreArn: 'arn:ts', ClientCertificateIdentityFilters: [FILTER]} as never,
  });
const filterKeys = (body: string): string[] => [...new URLSearchParams(body).keys()].filter((k) => k.startsWith(MEMBER));

describe('NLB filter middleware guard', () => {
  it("today's SDK: the middleware adds the filters exactly once", async () => {
    await client().send(command());
    const keys = filterKeys(bodies.at(-1)!);
    assert.deepEqual(keys, [`${MEMBER}.member.1.Action`, `${MEMBER}.member.1.Field`, `${MEMBER}.member.1.MatchType`, `${MEMBER}.member.1.Value`]);
  });

  it('a request whose body already carries the filters is sent unchanged (no duplicate parameters)', async () => {
    const c = client();
    // Stands in for an SDK whose serializer knows the member: the list is in the body before our middleware runs.
    (c.middlewareStack as unknown as {addRelativeTo(mw: unknown, o: unknown): void}).addRelativeTo(
      (next: (a: unknown) => Promise<unknown>) => async (args: {request?: {body?: unknown}}) => {
        if (args.request && typeof args.request.body === 'string') args.request.body = `${args.request.body}&${filterFormParams([FILTER])}`;
        return next(args);
      },
      {relation: 'before', toMiddleware: 'mtlsKitNlbFilterRequest', name: 'futureSdkSerializer'},
    );
    await c.send(command());
    const keys = filterKeys(bodies.at(-1)!);
    assert.equal(keys.length, 4, `filters sent once, got ${keys.join(', ')}`);
  });

  it('the guard itself: an empty list or members in the body count as already serialised', () => {
    assert.equal(bodyHasFilters(`Action=CreateListener&${encodeURIComponent(MEMBER)}=`), true);
    assert.equal(bodyHasFilters(`Action=CreateListener&${MEMBER}.member.1.Action=accept`), true);
    assert.equal(bodyHasFilters('Action=CreateListener&MutualAuthentication.Mode=verify'), false);
    // Planted violation: without the guard the same body would carry the list twice.
    const once = appendFilterParams('Action=CreateListener', [FILTER]);
    assert.equal(appendFilterParams(once, [FILTER]), once);
    assert.equal(filterKeys(`${once}&${filterFormParams([FILTER])}`).length, 8);
  });
});
