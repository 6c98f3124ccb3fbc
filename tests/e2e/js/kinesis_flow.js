// Drives kinesd with @aws-sdk/client-kinesis v3 as users get it. Run by ../test_http2.py:
//   node kinesis_flow.js MODE ENDPOINT
// MODE: core-default (the SDK's default handler: HTTP/2), core-http1 (NodeHttpHandler),
//       concurrent (N calls at once over one shared HTTP/2 session), large (10 MiB record),
//       soak (node kinesis_flow.js soak ENDPOINT SECONDS STREAM CONCURRENCY: mixed load).
// Prints one JSON line with what it saw; exits 1 with the error on any failure.
"use strict";
const {
  KinesisClient, CreateStreamCommand, DeleteStreamCommand, PutRecordCommand, PutRecordsCommand,
  GetShardIteratorCommand, GetRecordsCommand, ListShardsCommand, waitUntilStreamExists,
  waitUntilStreamNotExists,
} = require("@aws-sdk/client-kinesis");
const { NodeHttpHandler, NodeHttp2Handler } = require("@smithy/node-http-handler");
const crypto = require("crypto");

const [mode, endpoint, countArg] = process.argv.slice(2);
const credentials = { accessKeyId: "AKIDKINESDTEST", secretAccessKey: "kinesd-test-secret" };

function client(requestHandler) {
  const cfg = { endpoint, region: "us-east-1", credentials, maxAttempts: 1 };
  if (requestHandler) cfg.requestHandler = requestHandler;
  return new KinesisClient(cfg);
}

async function createActive(kinesis, extra = {}) {
  const name = "js-" + crypto.randomBytes(6).toString("hex");
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1, ...extra }));
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 30, minDelay: 1 }, { StreamName: name });
  return name;
}

async function readAll(kinesis, name) {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards;
  let it = (await kinesis.send(new GetShardIteratorCommand({
    StreamName: name, ShardId: shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
  const records = [];
  for (let i = 0; i < 1000; i++) {
    const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it }));
    records.push(...r.Records);
    if (r.Records.length === 0 && r.MillisBehindLatest === 0) break;
    it = r.NextShardIterator;
  }
  return records;
}

async function core(kinesis) {
  const name = await createActive(kinesis);
  const one = await kinesis.send(new PutRecordCommand({
    StreamName: name, PartitionKey: "pk-0", Data: Buffer.from("hello h2") }));
  const batch = await kinesis.send(new PutRecordsCommand({ StreamName: name, Records:
    [1, 2, 3].map((i) => ({ PartitionKey: `pk-${i}`, Data: Buffer.from(`record ${i}`) })) }));
  const records = await readAll(kinesis, name);
  let error = null;
  try {
    await kinesis.send(new PutRecordCommand({ StreamName: name + "-missing", PartitionKey: "k", Data: Buffer.from("x") }));
  } catch (e) {
    error = { name: e.name, message: e.message, status: e.$metadata && e.$metadata.httpStatusCode };
  }
  await kinesis.send(new DeleteStreamCommand({ StreamName: name }));
  await waitUntilStreamNotExists({ client: kinesis, maxWaitTime: 30, minDelay: 1 }, { StreamName: name });
  return {
    handlerProtocol: kinesis.config.requestHandler.metadata && kinesis.config.requestHandler.metadata.handlerProtocol,
    firstSequence: one.SequenceNumber,
    failed: batch.FailedRecordCount,
    data: records.map((r) => Buffer.from(r.Data).toString()),
    sequences: records.map((r) => r.SequenceNumber),
    error,
  };
}

async function concurrent(count) {
  const handler = new NodeHttp2Handler({ disableConcurrentStreams: false });
  const kinesis = client(handler);
  const name = await createActive(kinesis);
  const started = Date.now();
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) =>
    kinesis.send(new PutRecordCommand({ StreamName: name, PartitionKey: `pk-${i}`, Data: Buffer.from(`r${i}`) }))));
  const failures = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
  const pools = handler.connectionManager.debug();
  const sessions = Object.values(pools).reduce((n, p) => n + p.sessions.length, 0);
  const records = await readAll(kinesis, name);
  await kinesis.send(new DeleteStreamCommand({ StreamName: name }));
  return { count, failures: failures.slice(0, 5), failed: failures.length, sessions,
           stored: records.length, ms: Date.now() - started };
}

async function large(kinesis) {
  const name = await createActive(kinesis, { MaxRecordSizeInKiB: 10240 });
  const data = crypto.randomBytes(10 * 1024 * 1024 - 16);
  await kinesis.send(new PutRecordCommand({ StreamName: name, PartitionKey: "big", Data: data }));
  const records = await readAll(kinesis, name);
  await kinesis.send(new DeleteStreamCommand({ StreamName: name }));
  const got = records.length ? Buffer.from(records[0].Data) : Buffer.alloc(0);
  return { records: records.length, bytes: got.length, equal: got.equals(data) };
}

// Mixed load until the deadline: `concurrency` loops share one HTTP/2 session (PutRecord,
// PutRecords, GetRecords), one more loop uses the default handler (a session per call).
async function soak(seconds, name, concurrency) {
  const handler = new NodeHttp2Handler({ disableConcurrentStreams: false });
  const shared = client(handler);
  const perCall = client();
  const deadline = Date.now() + seconds * 1000;
  const counts = { calls: 0, failed: 0, records: 0 };
  const errors = [];
  const shards = (await shared.send(new ListShardsCommand({ StreamName: name }))).Shards;
  async function loop(kinesis, i) {
    let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: name,
      ShardId: shards[i % shards.length].ShardId, ShardIteratorType: "LATEST" }))).ShardIterator;
    for (let n = 0; Date.now() < deadline; n++) {
      try {
        if (n % 3 === 0) {
          await kinesis.send(new PutRecordCommand({ StreamName: name, PartitionKey: `js-${i}-${n}`,
                                                    Data: crypto.randomBytes(512 + (n % 7) * 1024) }));
          counts.records += 1;
        } else if (n % 3 === 1) {
          const r = await kinesis.send(new PutRecordsCommand({ StreamName: name, Records:
            Array.from({ length: 10 }, (_, k) => ({ PartitionKey: `js-${i}-${n}-${k}`, Data: crypto.randomBytes(256) })) }));
          if (r.FailedRecordCount) throw new Error(`PutRecords FailedRecordCount ${r.FailedRecordCount}`);
          counts.records += 10;
        } else {
          const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 100 }));
          it = r.NextShardIterator;
        }
      } catch (e) {
        counts.failed += 1;
        if (errors.length < 5) errors.push(String(e && e.stack ? e.stack : e));
      }
      counts.calls += 1;
    }
  }
  await Promise.all([
    ...Array.from({ length: concurrency }, (_, i) => loop(shared, i)),
    loop(perCall, concurrency),
  ]);
  return { ...counts, errors };
}

(async () => {
  let out;
  if (mode === "core-default") out = await core(client());
  else if (mode === "core-http1") out = await core(client(new NodeHttpHandler()));
  else if (mode === "concurrent") out = await concurrent(Number(countArg || 1000));
  else if (mode === "large") out = await large(client());
  else if (mode === "soak") out = await soak(Number(countArg), process.argv[5], Number(process.argv[6] || 8));
  else throw new Error(`unknown mode ${mode}`);
  console.log(JSON.stringify(out));
  process.exit(0);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
