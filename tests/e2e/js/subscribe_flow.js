// SubscribeToShard with @aws-sdk/client-kinesis v3 and its default HTTP/2 handler, as users get
// it. Run by ../test_subscribe_http2.py:
//   node subscribe_flow.js flow ENDPOINT STREAM CONSUMER_ARN N
//     subscribes (LATEST), then puts N records one at a time, each once the previous one has
//     been pushed; closes the event stream, then makes one more call on the same client.
//     Prints {"puts": [seq...], "got": [seq...], "data": [...], "maxLatencyMs": ms, "after": ...}
//   node subscribe_flow.js until-end ENDPOINT CONSUMER_ARN
//     subscribes, prints "subscribed", and reads until the server ends the stream.
//     Prints {"ended": true, "events": n, "error": null|name}
// Exits 1 with the error on any unexpected failure.
"use strict";
const {
  KinesisClient, PutRecordCommand, SubscribeToShardCommand, DescribeStreamSummaryCommand,
} = require("@aws-sdk/client-kinesis");

const [mode, endpoint] = process.argv.slice(2);
const credentials = { accessKeyId: "AKIDKINESDTEST", secretAccessKey: "kinesd-test-secret" };
const kinesis = new KinesisClient({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 });
const SHARD0 = "shardId-000000000000";

async function subscribe(consumerArn) {
  const res = await kinesis.send(new SubscribeToShardCommand({
    ConsumerARN: consumerArn, ShardId: SHARD0, StartingPosition: { Type: "LATEST" } }));
  return res.EventStream;
}

async function flow(name, consumerArn, n) {
  const events = await subscribe(consumerArn);
  const got = [], data = [];
  let waiting = null;  // resolves when `got` grows
  const reader = (async () => {
    for await (const ev of events) {
      if (!ev.SubscribeToShardEvent) throw new Error("unexpected event " + JSON.stringify(Object.keys(ev)));
      for (const r of ev.SubscribeToShardEvent.Records) {
        got.push(r.SequenceNumber);
        data.push(Buffer.from(r.Data).toString());
      }
      if (ev.SubscribeToShardEvent.Records.length && waiting) waiting();
      if (got.length >= n) break;  // leaving the loop closes the HTTP/2 stream
    }
  })();
  const puts = [];
  let maxLatencyMs = 0;
  for (let i = 0; i < n; i++) {
    const arrived = new Promise((resolve) => { waiting = resolve; });
    const started = Date.now();
    const r = await kinesis.send(new PutRecordCommand({
      StreamName: name, PartitionKey: "k", Data: Buffer.from(`event ${i}`) }));
    puts.push(r.SequenceNumber);
    while (got.length < puts.length) {
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(
        `record ${i} not pushed within 20 s`)), 20000).unref());
      await Promise.race([arrived, timeout, reader.then(() => { throw new Error("stream ended early"); })]);
    }
    maxLatencyMs = Math.max(maxLatencyMs, Date.now() - started);
  }
  await reader;
  // The same client (and HTTP/2 session) still serves calls after the stream was closed.
  const after = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name })))
    .StreamDescriptionSummary.StreamStatus;
  return { puts, got, data, maxLatencyMs, after };
}

async function untilEnd(consumerArn) {
  const events = await subscribe(consumerArn);
  process.stdout.write("subscribed\n");
  let count = 0, error = null;
  try {
    for await (const ev of events) count++;
  } catch (e) {
    error = e.name || String(e);
  }
  return { ended: true, events: count, error };
}

(async () => {
  let out;
  if (mode === "flow") out = await flow(process.argv[4], process.argv[5], Number(process.argv[6]));
  else if (mode === "until-end") out = await untilEnd(process.argv[4]);
  else throw new Error("unknown mode " + mode);
  process.stdout.write(JSON.stringify(out) + "\n");
  kinesis.destroy();
  process.exit(0);
})().catch((e) => {
  process.stderr.write((e && e.stack) || String(e));
  process.stderr.write("\n");
  process.exit(1);
});
