declare module 's3rver' {
  /** The parts of the Koa context that test/support/s3-server.ts's middleware reads and sets. */
  export interface KoaContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    req: NodeJS.ReadableStream;
    headers: Record<string, string | string[] | undefined>;
    status: number;
    type: string;
    body: unknown;
  }
  export default class S3rver {
    constructor(options: Record<string, unknown>);
    middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>>;
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
