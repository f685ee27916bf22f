/**
 * The request side of a client-streaming or bidirectional call, as a bounded async iterable.
 */
import { assert } from './_assert.ts';

/** What the queue asks of its source when it fills up or empties (the HTTP/2 stream's pause/resume). */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: Error): void;
}

/**
 * Incoming messages of one call. At most `queuedMessagesMax` decoded messages wait here; at that point the
 * source is paused, so HTTP/2 flow control pushes back on the client instead of memory growing.
 *
 * Iteration throws the call's GrpcError when the call is cancelled, and ends when the client half-closes.
 *
 * @example
 * for await (const request of requests) call.write(answer(request));
 */
export class RequestStream<T> implements AsyncIterableIterator<T> {
  readonly #queuedMessagesMax: number;
  readonly #flowControl: FlowControl;
  /** Invariant: #queue.length <= #queuedMessagesMax. */
  readonly #queue: T[] = [];
  #waiter: Waiter<T> | undefined;
  #ended = false;
  #error: Error | undefined;
  #paused = false;
  /** The consumer stopped iterating; later messages are dropped. */
  #abandoned = false;

  constructor(queuedMessagesMax: number, flowControl: FlowControl) {
    if (!Number.isInteger(queuedMessagesMax) || queuedMessagesMax < 1) throw new RangeError('queuedMessagesMax must be a positive integer');
    this.#queuedMessagesMax = queuedMessagesMax;
    this.#flowControl = flowControl;
  }

  /** Messages received but not yet taken by the handler. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Whether the source is paused because the queue is full. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Adds a message from the source. Returns false once the queue is full: the source must then stop
   * pushing until the queue calls `flowControl.resume()`.
   */
  push(message: T): boolean {
    if (this.#ended || this.#error !== undefined || this.#abandoned) return true;
    if (this.#queue.length >= this.#queuedMessagesMax) throw new RangeError('RequestStream: push() on a full queue');
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ value: message, done: false });
      return true;
    }
    this.#queue.push(message);
    assert(this.#queue.length <= this.#queuedMessagesMax, 'the request queue stays within its bound');
    if (this.#queue.length < this.#queuedMessagesMax) return true;
    if (!this.#paused) {
      this.#paused = true;
      this.#flowControl.pause();
    }
    return false;
  }

  /** The client half-closed: iteration ends after the queued messages. */
  end(): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#ended = true;
    const waiter = this.#waiter;
    if (waiter !== undefined && this.#queue.length === 0) {
      this.#waiter = undefined;
      waiter.resolve({ value: undefined, done: true });
    }
  }

  /** The call failed (cancelled, deadline, protocol error): pending and later reads throw `error`. */
  fail(error: Error): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#queue.length = 0;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.reject(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#queue.length > 0) {
      const value = this.#queue.shift()!;
      this.#resumeIfRoom();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended || this.#abandoned) return Promise.resolve({ value: undefined, done: true });
    assert(this.#waiter === undefined, 'RequestStream: next() called while another next() is pending');
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** The handler stopped iterating early (break, return or throw inside for-await). */
  return(): Promise<IteratorResult<T>> {
    this.#abandoned = true;
    this.#queue.length = 0;
    this.#resumeIfRoom();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): RequestStream<T> {
    return this;
  }

  #resumeIfRoom(): void {
    // Resume at half the bound, not one below it, so a busy stream does not flap every message.
    if (this.#paused && this.#queue.length <= this.#queuedMessagesMax >>> 1) {
      this.#paused = false;
      this.#flowControl.resume();
    }
  }
}
