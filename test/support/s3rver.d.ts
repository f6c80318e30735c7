declare module 's3rver' {
  export default class S3rver {
    constructor(options: Record<string, unknown>);
    middleware: Array<(ctx: any, next: () => Promise<void>) => Promise<void>>;
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
