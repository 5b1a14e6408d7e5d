/**
 * `graphql-ws/use/ws` is a package `exports` subpath, which Node's `require` resolves but TypeScript's
 * `moduleResolution: node` (this project's, for CommonJS output) cannot: point it at the CommonJS
 * typings of the same file.
 */
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws.cjs';
}
