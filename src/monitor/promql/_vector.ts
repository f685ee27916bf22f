/**
 * The engine's internal values. An evaluated instant-vector or scalar expression is a `Matrix` whose series
 * have at most one point per evaluation step; a step's slice of it is a `VectorElement[]`. A scalar is a
 * matrix with one label-less series that has a point at every step.
 */
import type { Labels } from '../tsdb/labels.ts';
import type { Points } from './value.ts';
import { executionError } from './errors.ts';
import { labelsKey } from './_labels.ts';

/** One series of an evaluated expression. Points are in time order. */
export interface EvalSeries {
  readonly labels: Labels;
  readonly points: Points;
}

export type Matrix = EvalSeries[];

/** An evaluated string literal. */
export interface StringValue {
  readonly kind: 'string';
  readonly value: string;
}

/** One element of an instant vector at one step. */
export interface VectorElement {
  readonly labels: Labels;
  readonly value: number;
}

/** Prometheus's "vector cannot contain metrics with the same labelset" check. */
export function assertUniqueLabelSets(elements: readonly { readonly labels: Labels }[]): void {
  if (elements.length < 2) return;
  const seen = new Set<string>();
  for (const element of elements) {
    const key = labelsKey(element.labels);
    if (seen.has(key)) throw duplicateLabelSetError();
    seen.add(key);
  }
}

export function duplicateLabelSetError(): Error {
  return executionError('vector cannot contain metrics with the same labelset');
}
