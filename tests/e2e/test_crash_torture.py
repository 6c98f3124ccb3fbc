"""Crash torture: a producer writes PutRecords batches with distinct payloads while the server
is killed with SIGKILL at random moments, over and over, on the same data directory. At the end
every acknowledged record is read back exactly once, in order, with its data intact, and no
record appears twice (acknowledged or not).

The server runs with --fsync never: a process crash must not lose an acknowledged record even
without fsync, since the page cache outlives the process. Bounded: 24 cycles, each waiting for a
few acknowledged batches with a deadline; well under 3 minutes on a loaded 2-core machine.
"""
import os
import random
import threading
import time
import unittest

import botocore.exceptions

from kinesd_harness import KinesdServer, unique_name

CYCLES = 24
SHARDS = 3
BATCH = 25
TEST_DEADLINE_S = 170  # the whole test; CI's budget for it is 3 minutes
CYCLE_TIMEOUT_S = 20   # per cycle: the producer must get an acknowledgement within this


class Producer(threading.Thread):
    """PutRecords batches against one server until stopped or the server dies.

    acked: (ShardId, SequenceNumber, record id) per acknowledged record, in acknowledgement order.
    sent: record id -> data, for every record ever sent (acknowledged or not).
    """

    def __init__(self, client, stream, rng, next_id, sent, acked):
        super().__init__(daemon=True)
        self.client, self.stream, self.rng = client, stream, rng
        self.next_id, self.sent, self.acked = next_id, sent, acked
        self.batches_acked = 0
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop_flag.is_set():
                entries, ids = [], []
                for _ in range(BATCH):
                    rid = self.next_id[0]
                    self.next_id[0] += 1
                    data = f"{rid:09d}|".encode() + self.rng.randbytes(self.rng.randrange(0, 300))
                    self.sent[rid] = data
                    ids.append(rid)
                    entries.append({"PartitionKey": f"pk-{self.rng.randrange(10_000)}", "Data": data})
                try:
                    resp = self.client.put_records(StreamName=self.stream, Records=entries)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                    return  # the server died under us: this batch is not acknowledged
                for rid, result in zip(ids, resp["Records"]):
                    if "SequenceNumber" in result:
                        self.acked.append((result["ShardId"], result["SequenceNumber"], rid))
                self.batches_acked += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


class CrashTorture(unittest.TestCase):
    def test_sigkill_at_random_moments_loses_and_duplicates_nothing(self):
        started = time.monotonic()
        rng = random.Random(int(os.environ.get("KINESD_TORTURE_SEED", "20131202")))
        # Small segments so that kills also land around segment rolls.
        server = KinesdServer("--fsync", "never", "--throttle", "off", "--segment-bytes", "16384")
        self.addCleanup(server.close)
        server.start()
        stream = unique_name("torture")
        client = server.client(max_attempts=1)
        client.create_stream(StreamName=stream, ShardCount=SHARDS)
        client.get_waiter("stream_exists").wait(
            StreamName=stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 150})

        sent, acked, next_id = {}, [], [0]
        kills = 0
        for cycle in range(CYCLES):
            self.assertLess(time.monotonic() - started, TEST_DEADLINE_S, f"cycle {cycle}")
            if cycle > 0:
                server.start(port=server.port)
                client = server.client(max_attempts=1)
            producer = Producer(client, stream, rng, next_id, sent, acked)
            producer.start()
            # Kill after a random number of acknowledged batches, and a random moment within
            # the next one, so that kills land before, during and after writes.
            target = rng.randrange(1, 12)
            deadline = time.monotonic() + CYCLE_TIMEOUT_S
            while producer.batches_acked < target and producer.is_alive():
                self.assertLess(time.monotonic(), deadline,
                                f"cycle {cycle}: no progress\n{server.stderr_text()}")
                time.sleep(0.005)  # polling the producer's progress, bounded by the deadline
            time.sleep(rng.uniform(0, 0.01))
            server.kill9()
            kills += 1
            producer.stop_flag.set()
            producer.join(timeout=CYCLE_TIMEOUT_S)
            self.assertFalse(producer.is_alive(), f"cycle {cycle}: producer stuck")
            self.assertIsNone(producer.error, f"cycle {cycle}")
        self.assertGreaterEqual(kills, 20)

        server.start(port=server.port)
        client = server.client(max_attempts=3)
        self.assertGreater(len(acked), 0)

        # Read every shard to its end.
        shards = client.list_shards(StreamName=stream)["Shards"]
        self.assertEqual(len(shards), SHARDS)
        read = {}
        for shard in shards:
            it = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records = []
            for _ in range(10_000):
                resp = client.get_records(ShardIterator=it, Limit=10_000)
                records += resp["Records"]
                if not resp["Records"] and resp["MillisBehindLatest"] == 0:
                    break
                it = resp["NextShardIterator"]
            read[shard["ShardId"]] = records

        seen_ids = set()
        for shard_id, records in read.items():
            seqs = [int(r["SequenceNumber"]) for r in records]
            self.assertEqual(seqs, sorted(set(seqs)), f"{shard_id}: sequence numbers out of order")
            for r in records:
                rid = int(r["Data"][:9])
                self.assertNotIn(rid, seen_ids, f"record {rid} appears twice")
                seen_ids.add(rid)
                self.assertEqual(r["Data"], sent[rid], f"record {rid}: data changed")
            # The acknowledged records of this shard, in the order they were acknowledged, are
            # exactly the acknowledged ones read back, in sequence-number order.
            expected = [(seq, rid) for s, seq, rid in acked if s == shard_id]
            got_by_seq = {r["SequenceNumber"]: int(r["Data"][:9]) for r in records}
            for seq, rid in expected:
                self.assertEqual(got_by_seq.get(seq), rid,
                                 f"{shard_id}: acknowledged record {rid} ({seq}) lost or changed")
            self.assertEqual([seq for seq, _ in expected],
                             sorted((seq for seq, _ in expected), key=int),
                             f"{shard_id}: acknowledgements out of order")
        acked_ids = {rid for _, _, rid in acked}
        self.assertTrue(acked_ids <= seen_ids)
        # Unacknowledged records that survived are whole records that were really sent.
        self.assertTrue(seen_ids <= set(sent))
        self.assertLess(time.monotonic() - started, TEST_DEADLINE_S + 30)


if __name__ == "__main__":
    unittest.main()
