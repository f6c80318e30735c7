// Moved to src/io/emulate/http-stand-in.ts (the `mtls-kit emulate` command serves it); kept so tests keep importing it from here.
export * from '../../src/io/emulate/http-stand-in.js';
