"""Recorders, transcribers and livestream encoders run in spawned processes. Run as the
`salon` console script, the server's `__main__` is that script, whose one import is the
whole server: a child must not run it again before its work
(`salon.recording.process.spawn_children_lightly`)."""

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

#: pip's console script for `salon = "salon.cli:main"`, with the CLI's start replaced
#: by a spawn that reports what the child imported before its target ran.
SCRIPT = """\
import sys
from salon.cli import main
if __name__ == "__main__":
    from salon.recording.process import spawn_children_lightly
    from tests.test_spawned_children import imported_the_server
    if sys.argv[1] == "lightly":
        spawn_children_lightly()
    import multiprocessing
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=imported_the_server, args=(answers,))
    child.start()
    print(answers.get(timeout=60))
    child.join(60)
"""


def imported_the_server(answers: "multiprocessing.Queue[bool]") -> None:
    answers.put("salon.cli" in sys.modules)


def _child_imported_the_server(script: Path, how: str) -> bool:
    root = Path(__file__).parent.parent
    out = subprocess.run([sys.executable, str(script), how], capture_output=True, text=True,
                         timeout=120, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "True"


def test_a_child_of_the_console_script_does_not_import_the_server(tmp_path: Path) -> None:
    script = tmp_path / "salon"
    script.write_text(SCRIPT)
    assert _child_imported_the_server(script, "as it was")  # what it cost before
    assert not _child_imported_the_server(script, "lightly")
