/**
 * ClientCertificateIdentityFilters on the wire, for the ELBv2 SDK whose model predates them
 * (aws-reference 9.4, 9.9).
 *
 * REMOVE THIS MODULE when @aws-sdk/client-elastic-load-balancing-v2 has
 * `MutualAuthenticationAttributes.ClientCertificateIdentityFilters`: then pass the list in
 * the command input and read it from the output, and drop `addNlbFilterMiddleware` from
 * src/io/aws/clients.ts.
 *
 * Until then, two small middlewares on the ELBv2 client:
 * - request: CreateListener / ModifyListener inputs may carry
 *   `MutualAuthentication.ClientCertificateIdentityFilters` (the SDK's serializer ignores
 *   it); after serialization it is appended to the Query-protocol form body as
 *   `MutualAuthentication.ClientCertificateIdentityFilters.member.N.Action|Field|MatchType|Value`,
 *   or `MutualAuthentication.ClientCertificateIdentityFilters=` for an empty list (the Query
 *   protocol's empty list), before the body's length is computed and the request signed;
 * - response: the XML of CreateListener / ModifyListener / DescribeListeners is read before
 *   the SDK parses it, and each listener's filters are put back into
 *   `Listeners[i].MutualAuthentication.ClientCertificateIdentityFilters` of the output.
 */
import type {ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2';

/** One filter as the API names its members (aws-reference 9.4). */
export interface WireIdentityFilter {
  Action: string;
  Field: string;
  MatchType: string;
  Value: string;
}

/** The wire names, in one place (UNCONFIRMED inferences from the Query protocol, aws-reference 9.4). */
export const NLB_WIRE = {
  listMember: 'MutualAuthentication.ClientCertificateIdentityFilters',
  /** Members in the order they are sent. */
  fields: ['Action', 'Field', 'MatchType', 'Value'] as const,
  requestCommands: ['CreateListenerCommand', 'ModifyListenerCommand'],
  responseCommands: ['CreateListenerCommand', 'ModifyListenerCommand', 'DescribeListenersCommand'],
};

/** The SDK's query encoding: RFC 3986 (encodeURIComponent plus `!'()*`). */
const encode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The form parameters for a filter list (`undefined`: nothing is sent). */
export function filterFormParams(filters: readonly WireIdentityFilter[] | undefined): string {
  if (filters === undefined) return '';
  if (filters.length === 0) return `${encode(NLB_WIRE.listMember)}=`;
  return filters.flatMap((f, i) => NLB_WIRE.fields.map((k) => `${encode(`${NLB_WIRE.listMember}.member.${i + 1}.${k}`)}=${encode(f[k])}`)).join('&');
}

/**
 * The form body with the filter parameters appended, or the body unchanged when the SDK
 * already serialised the list (a client whose model has the member): a parameter named
 * `MutualAuthentication.ClientCertificateIdentityFilters` (empty list) or `...member.N...`.
 * Appending again would send the filters twice.
 */
export function appendFilterParams(body: string, filters: readonly WireIdentityFilter[]): string {
  if (bodyHasFilters(body)) return body;
  const params = filterFormParams(filters);
  return params ? `${body}&${params}` : body;
}

/** Whether a Query-protocol form body already carries the filter list. */
export function bodyHasFilters(body: string): boolean {
  const name = encode(NLB_WIRE.listMember);
  for (const pair of body.split('&')) {
    const key = pair.slice(0, pair.indexOf('=') < 0 ? pair.length : pair.indexOf('='));
    if (key === name || key.startsWith(`${name}.`)) return true;
  }
  return false;
}

const XML_ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"};
const unescapeXml = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : XML_ENTITIES[e.toLowerCase()]!,
  );

const element = (xml: string, name: string): string | undefined => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
};

/**
 * Each listener's filters in a Listeners XML response: ListenerArn → list (listeners
 * without the element are absent from the map).
 */
export function parseListenerFilters(xml: string): Map<string, WireIdentityFilter[]> {
  const out = new Map<string, WireIdentityFilter[]>();
  // Each listener's block starts at its ListenerArn (the Listener shape's first member).
  const blocks = xml.split('<ListenerArn>').slice(1);
  for (const block of blocks) {
    const arn = unescapeXml(block.slice(0, block.indexOf('</ListenerArn>')));
    const list = /<ClientCertificateIdentityFilters>([\s\S]*?)<\/ClientCertificateIdentityFilters>|<ClientCertificateIdentityFilters\/>/.exec(block);
    if (!list) continue;
    const members = (list[1] ?? '').split('<member>').slice(1);
    out.set(
      arn,
      members.map((m) => ({
        Action: element(m, 'Action') ?? '',
        Field: element(m, 'Field') ?? '',
        MatchType: element(m, 'MatchType') ?? '',
        Value: element(m, 'Value') ?? '',
      })),
    );
  }
  return out;
}

type Body = {body?: unknown};
type Ctx = {commandName?: string; [FILTERS]?: Map<string, WireIdentityFilter[]>};
const FILTERS = Symbol('mtls-kit.nlb-filters');

/** Adds the request and response middlewares to an ELBv2 client (once). */
export function addNlbFilterMiddleware(client: ElasticLoadBalancingV2Client): void {
  const stack = client.middlewareStack as unknown as {
    addRelativeTo(mw: unknown, options: {relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean}): void;
  };
  // Request: after the SDK serialized the form body, before its length and signature.
  stack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: Ctx) =>
      async (args: {input?: {MutualAuthentication?: {ClientCertificateIdentityFilters?: WireIdentityFilter[]}}; request?: Body}) => {
        const filters = args.input?.MutualAuthentication?.ClientCertificateIdentityFilters;
        if (filters !== undefined && NLB_WIRE.requestCommands.includes(context.commandName ?? '') && args.request && typeof args.request.body === 'string') {
          args.request.body = appendFilterParams(args.request.body, filters);
        }
        return next(args);
      },
    {relation: 'after', toMiddleware: 'serializerMiddleware', name: 'mtlsKitNlbFilterRequest', override: true},
  );
  // Response, inner: read the XML before the SDK parses it; keep the filters in the context.
  stack.addRelativeTo(
    (next: (args: unknown) => Promise<{response: Body}>, context: Ctx) => async (args: unknown) => {
      const r = await next(args);
      if (!NLB_WIRE.responseCommands.includes(context.commandName ?? '')) return r;
      const body = r.response.body;
      let bytes: Uint8Array | undefined;
      if (body instanceof Uint8Array) bytes = body;
      else if (body && typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
        const chunks: Uint8Array[] = [];
        for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(c);
        bytes = Buffer.concat(chunks);
        // The SDK's body collector takes bytes as they are.
        r.response.body = bytes;
      }
      if (bytes) context[FILTERS] = parseListenerFilters(Buffer.from(bytes).toString('utf8'));
      return r;
    },
    {relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'mtlsKitNlbFilterResponseRead', override: true},
  );
  // Response, outer: put the filters into the parsed output.
  stack.addRelativeTo(
    (next: (args: unknown) => Promise<{output: {Listeners?: Array<{ListenerArn?: string; MutualAuthentication?: Record<string, unknown>}>}}>, context: Ctx) =>
      async (args: unknown) => {
        const r = await next(args);
        const found = context[FILTERS];
        if (found) {
          for (const l of r.output.Listeners ?? []) {
            const filters = l.ListenerArn ? found.get(l.ListenerArn) : undefined;
            if (filters && l.MutualAuthentication) l.MutualAuthentication.ClientCertificateIdentityFilters = filters;
          }
        }
        return r;
      },
    {relation: 'before', toMiddleware: 'deserializerMiddleware', name: 'mtlsKitNlbFilterResponseMerge', override: true},
  );
}
