/**
 * The consensus core: pure Raft with a Ready/Advance interface. See docs/architecture.md.
 */
export { RaftNode, type Status, type ProgressStatus } from './node.ts';
export { MemoryStorage } from './storage.ts';
export { encodeConfChange, decodeConfChange, CodecError } from './codec.ts';
export { bugNames, isBugName, validateConfig, defaultConfig, ConfigError, type BugName, type Config, type ConfigInput } from './config.ts';
export { ConfChangeError } from './confchange.ts';
export { InvariantError } from './assert.ts';
export { coalesceMessages, describeMessage } from './message.ts';
export { contextKey } from './read-only.ts';
export * from './types.ts';
