"""Every operation of the API model answers: none gets UnknownOperationException, so a gap in the
dispatch table cannot hide. Each operation is sent an empty request and must answer either
successfully or with one of the model's client errors."""
import json
import os
import unittest

from kinesd_harness import REPO_ROOT, KinesdTestCase

MODEL = os.path.join(REPO_ROOT, "src", "api", "model", "kinesis-2013-12-02.min.json")

# Operations that are not dispatched yet, with the work that adds each. Remove an entry when its
# handler lands (the test fails if a listed operation answers).
KNOWN_GAPS = {}


class ModelCoverage(KinesdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(MODEL) as f:
            cls.operations = sorted(json.load(f)["operations"])

    def test_model_has_all_39_operations(self):
        self.assertEqual(len(self.operations), 39)
        self.assertLessEqual(set(KNOWN_GAPS), set(self.operations))

    def test_every_operation_is_dispatched(self):
        for op in self.operations:
            with self.subTest(operation=op):
                resp = self.server.raw(op, {})
                body = resp.json() or {}
                error = body.get("__type", "")
                if op in KNOWN_GAPS:
                    self.assertEqual(error, "UnknownOperationException",
                                     f"{op} is dispatched now: remove it from KNOWN_GAPS")
                    continue
                self.assertNotEqual(error, "UnknownOperationException", f"{op} is not dispatched")
                self.assertIn(resp.status, (200, 400), resp)
                if resp.status == 400:
                    self.assertIn(error, ("ValidationException", "InvalidArgumentException",
                                          "ResourceNotFoundException"), resp)


if __name__ == "__main__":
    unittest.main()
