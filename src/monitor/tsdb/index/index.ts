/**
 * The series index: symbols, postings and their set operations, label matchers with an RE2-compatible
 * regex dialect, and the in-memory inverted index that selects series by matchers.
 *
 * @example
 * import { Matcher, MemoryIndex } from './index/index.ts';
 * const index = new MemoryIndex();
 * index.select([new Matcher('=~', 'job', 'api|web')]);
 */
export { Matcher } from './matcher.ts';
export type { MatchType } from './matcher.ts';
export { MemoryIndex } from './memory-index.ts';
export type { SeriesId } from './memory-index.ts';
export { insertPosting, intersectPostings, isSortedPostings, mergePostings, subtractPostings } from './postings.ts';
export type { Postings } from './postings.ts';
export { compileRegex, matchesCompiledRegex } from './regex-compile.ts';
export type { CompiledRegex, RegexFastPath } from './regex-compile.ts';
export { regexNestingDepthMax, regexPatternLengthMax, regexRepeatCountMax } from './regex-syntax.ts';
export { SymbolTable } from './symbols.ts';
export type { SymbolId } from './symbols.ts';
