// Moved to src/io/emulate/elbv2.ts (the `mtls-kit emulate` command serves it); kept so tests keep importing it from here.
export * from '../../src/io/emulate/elbv2.js';
