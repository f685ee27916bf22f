// Peer transport benchmarks, printed as JSON lines: small-message throughput (heartbeat-sized and 1 KiB
// App messages) between two transports on loopback, a 64 MiB snapshot stream, and the ping RTT.
// Bounded to about 10 seconds. Run: node --import tsx bench/transport.ts
import { EntryType, type Message, MessageType, emptyConfState } from '../src/raft/types.ts';
import { PeerTransport } from '../src/server/transport/index.ts';
import type { TransportLogger } from '../src/server/transport/index.ts';

const phaseMs = 2000;
/** Messages handed to send() per call, like one Ready batch. */
const batchMessages = 64;
/** Bound on messages in flight, so the bench measures throughput, not the queue's drop policy. */
const inFlightMessagesMax = 2048;
const quietLogger: TransportLogger = { info: () => {}, warn: () => {} };

function report(result: Record<string, string | number>): void {
  console.log(JSON.stringify(result));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

async function pair(onMessage: (message: Message) => void, onSnapshotStatus: (ok: boolean) => void): Promise<[PeerTransport, PeerTransport]> {
  const listen = { host: '127.0.0.1', port: 0 };
  const sender = new PeerTransport({ clusterId: 1n, memberId: 1, listen, onMessage: () => {}, onSnapshotStatus: (_, ok) => onSnapshotStatus(ok), logger: quietLogger });
  const receiver = new PeerTransport({ clusterId: 1n, memberId: 2, listen, onMessage, logger: quietLogger });
  await sender.start();
  await receiver.start();
  sender.addPeer(2, receiver.url());
  receiver.addPeer(1, sender.url());
  return [sender, receiver];
}

async function benchMessages(name: string, template: Message): Promise<void> {
  let received = 0;
  const [sender, receiver] = await pair(() => received++, () => {});
  let sent = 0;
  const started = performance.now();
  while (performance.now() - started < phaseMs) {
    if (sent - received < inFlightMessagesMax) {
      sender.send(Array.from({ length: batchMessages }, () => template));
      sent += batchMessages;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  while (received < sent) await new Promise((resolve) => setImmediate(resolve));
  const seconds = (performance.now() - started) / 1000;
  const statistics = sender.statistics().peers[0]!;
  report({
    bench: `transport.${name}`, messages: received, messagesPerSecond: Math.round(received / seconds),
    megabytesPerSecond: round(statistics.bytesSent / seconds / 1024 / 1024), messagesPerWrite: round(statistics.messagesSent / statistics.socketWrites),
    droppedOverflow: statistics.droppedOverflow,
  });
  await Promise.all([sender.close(), receiver.close()]);
}

async function benchSnapshot(dataBytes: number): Promise<void> {
  let status: boolean | null = null;
  let delivered = 0;
  const [sender, receiver] = await pair((message) => {
    delivered = message.snapshot?.data.length ?? 0;
  }, (ok) => {
    status = ok;
  });
  const snapshot = { metadata: { index: 1, term: 1, confState: { ...emptyConfState(), voters: [1, 2] } }, data: new Uint8Array(dataBytes).fill(5) };
  const started = performance.now();
  sender.send([{ ...message(), type: MessageType.Snap, snapshot }]);
  while (status === null) await new Promise((resolve) => setTimeout(resolve, 1));
  const seconds = (performance.now() - started) / 1000;
  report({ bench: 'transport.snapshot', megabytes: dataBytes / 1024 / 1024, ok: String(status), delivered, megabytesPerSecond: round(dataBytes / seconds / 1024 / 1024) });
  // The first ping is sent at connect time, amid start-up work; the next one, a second later, is idle.
  const pingWaitStarted = performance.now();
  while (sender.statistics().peers[0]!.rttMs.length < 2 && performance.now() - pingWaitStarted < 1500) await new Promise((resolve) => setTimeout(resolve, 10));
  report({ bench: 'transport.rtt', idleRttMs: round(sender.statistics().peers[0]!.rttMs.at(-1) ?? -1) });
  await Promise.all([sender.close(), receiver.close()]);
}

function message(entries: Message['entries'] = []): Message {
  return { type: MessageType.App, from: 1, to: 2, term: 5, logTerm: 5, index: 1000, entries, commit: 999, snapshot: null, reject: false, rejectHint: 0, context: null, leaseTick: 0 };
}

export async function run(): Promise<void> {
  await benchMessages('heartbeat', { ...message(), type: MessageType.Heartbeat });
  await benchMessages('append-1KiB', message([{ term: 5, index: 1001, type: EntryType.Normal, data: new Uint8Array(1024).fill(1) }]));
  await benchSnapshot(64 * 1024 * 1024);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
