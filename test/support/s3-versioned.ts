// Moved to src/io/emulate/s3.ts (the `mtls-kit emulate` command serves it); kept so tests keep importing it from here.
export * from '../../src/io/emulate/s3.js';
