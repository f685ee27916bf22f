// The package ships index.d.ts but its package.json "exports" map hides it from NodeNext resolution, so the
// one export keel uses is declared here.
declare module '@prometheus-io/lezer-promql' {
  import type { LRParser } from '@lezer/lr';

  export const parser: LRParser;
}
