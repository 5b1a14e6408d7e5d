/** esbuild's `text` loader: a .graphql file imports as its source text. */
declare module '*.graphql' {
  const source: string;
  export default source;
}
