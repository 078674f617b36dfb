"""The report under faults and hostile input: it deletes only files it wrote (its manifest), a failed
or killed report leaves the previous one intact, cache entries and run files are verified before
use, and text from data cannot change the structure of the Markdown.

Builds use the private registry and the fast LPM stand-in of ``tests/test_report.py``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lpm_verify.report import build as build_mod
from lpm_verify.report.build import MANIFEST, STAGING_PREFIX, ReportNotWritten, build_report
from lpm_verify.report.cache import Cache
from lpm_verify.report.document import Badge, Code, CodeBlock, Document, Figure, Heading, Section, note, para, table
from lpm_verify.report.gather import gather_checks
from lpm_verify.report.networks import gather_runs
from lpm_verify.report.render import to_markdown
from lpm_verify.report.sections import git_revision
from test_report import fake_lpm, make_registry, options, parse, runs_store, write_run  # noqa: F401 (fixtures)

TESTS = Path(__file__).resolve().parent
USER_FILES = {"network_topology_v2.png": b"user figure", "fig3_my_thesis_plot.png": b"thesis",
              "fig8_draft.png": b"draft", "net1_mine.png": b"mine", "notes.txt": b"keep me",
              "data/my_table.csv": b"a,b\n1,2\n"}


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` except the cache and the lock, by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.relative_to(out).as_posix().startswith(".cache/")
            and p.name != ".report.lock"}


def add_user_files(out: Path) -> None:
    for name, data in USER_FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)


def images_of(out: Path) -> list[str]:
    return parse(out / "index.html").images


# -- only files the report wrote are deleted ------------------------------------------------------------------
def test_user_files_in_the_report_folder_survive(tmp_path, fake_lpm, runs_store):
    out = tmp_path / "report"
    out.mkdir()
    add_user_files(out)
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    build_report(options(tmp_path, reg, tmp_path / "none"))
    for name, data in USER_FILES.items():
        assert (out / name).read_bytes() == data, name
    # the report's own files are listed in its manifest, and nothing else is
    manifest = json.loads((out / MANIFEST).read_text())
    listed = set(manifest["files"])
    assert {"index.html", "index.md", "data/checks.json"} <= listed
    assert set(images_of(out)) <= listed and not listed & set(USER_FILES)


def test_files_the_new_report_no_longer_writes_are_removed_unless_changed_since(tmp_path, fake_lpm, runs_store):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    old_nets = sorted(p.name for p in out.glob("net*.png"))
    assert len(old_nets) >= 2
    add_user_files(out)
    (out / old_nets[0]).write_bytes(b"edited by the user after the report wrote it")
    build_report(options(tmp_path, reg, tmp_path / "empty-store"))  # no runs: no network figures
    assert not (out / old_nets[1]).exists()  # written by the previous report, unchanged: stale, removed
    assert (out / old_nets[0]).read_bytes().startswith(b"edited by the user")  # changed since: kept
    for name, data in USER_FILES.items():
        assert (out / name).read_bytes() == data
    for src in images_of(out):
        assert (out / src).is_file()


def test_a_file_the_report_did_not_write_is_never_overwritten(tmp_path, fake_lpm):
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_bytes(b"<p>the user's own page</p>")
    reg = make_registry(tmp_path / "checks")
    with pytest.raises(ReportNotWritten, match=r"no earlier report there wrote.*index\.html; move them away"):
        build_report(options(tmp_path, reg, tmp_path / "none"))
    assert snapshot(out) == {"index.html": b"<p>the user's own page</p>"}
    (out / "index.html").unlink()
    build_report(options(tmp_path, reg, tmp_path / "none"))
    (out / "index.md").write_text("edited by hand")  # a report's file changed since: the user's now
    with pytest.raises(ReportNotWritten, match="index.md"):
        build_report(options(tmp_path, reg, tmp_path / "none"))
    assert (out / "index.md").read_text() == "edited by hand"


def test_a_hostile_manifest_deletes_nothing(tmp_path, fake_lpm):
    out = tmp_path / "report"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"outside")
    (out / "inside.txt").write_bytes(b"inside")
    digest = hashlib.sha256(b"outside").hexdigest()
    (out / MANIFEST).write_text(json.dumps({"format": 1, "files": {
        "../victim.txt": [digest], str(victim): [digest], "data/../../victim.txt": [digest],
        # well formed and matching, but in a manifest that is not: the whole manifest is distrusted
        "inside.txt": [hashlib.sha256(b"inside").hexdigest()]}}))
    build_report(options(tmp_path, make_registry(tmp_path / "checks"), tmp_path / "none"))
    assert victim.read_bytes() == b"outside" and (out / "inside.txt").read_bytes() == b"inside"
    text = " ".join(parse(out / "index.html").text)
    assert MANIFEST in text and "no earlier file was removed" in text


def test_a_report_without_a_manifest_is_left_in_place_and_the_report_says_so(tmp_path, fake_lpm, runs_store):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    nets = sorted(out.glob("net*.png"))
    (out / MANIFEST).unlink()  # as written before manifests existed
    build_report(options(tmp_path, reg, tmp_path / "empty-store"))
    assert nets and all(p.is_file() for p in nets)
    assert "no earlier file was removed" in " ".join(parse(out / "index.html").text)


def test_out_must_be_a_writable_folder_no_other_report_is_writing_to(tmp_path, fake_lpm):
    import fcntl

    from lpm_verify.errors import LPMInputError
    reg = make_registry(tmp_path / "checks")
    (tmp_path / "report").write_text("a file")
    with pytest.raises(LPMInputError, match="--out must be a folder"):
        build_report(options(tmp_path, reg, tmp_path / "none"))
    (tmp_path / "report").unlink()
    (tmp_path / "report").mkdir()
    with open(tmp_path / "report" / build_mod.LOCK, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(LPMInputError, match="no other report is writing"):
            build_report(options(tmp_path, reg, tmp_path / "none"))
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [build_mod.LOCK]


# -- a failed or killed report leaves the last good one intact -----------------------------------------------
@pytest.mark.parametrize("where", ["network_section", "to_html"])
def test_a_failure_mid_build_leaves_the_previous_report_intact(tmp_path, fake_lpm, runs_store, monkeypatch, where):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    add_user_files(out)
    before = snapshot(out)
    assert len(images_of(out)) >= 5

    def broken(*args, **kwargs):
        raise RuntimeError("injected fault")
    monkeypatch.setattr(build_mod, where, broken)
    with pytest.raises(ReportNotWritten) as info:
        build_report(options(tmp_path, reg, tmp_path / "empty-store"))
    message = str(info.value)
    assert "\n" not in message and "injected fault" in message and "unchanged" in message and str(out) in message
    assert snapshot(out) == before  # every file, the index and each image it references, byte for byte
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_a_report_that_cannot_replace_a_file_changes_nothing(tmp_path, fake_lpm):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, tmp_path / "none"))
    (out / "fig3_minority_cosine.png").unlink()
    (out / "fig3_minority_cosine.png").mkdir()  # a folder where the report writes a figure
    before = snapshot(out)
    with pytest.raises(ReportNotWritten, match="fig3_minority_cosine.png"):
        build_report(options(tmp_path, reg, tmp_path / "none"))
    assert snapshot(out) == before


def _index_is_whole(out: Path) -> None:
    """The invariant of the swap: index.html parses and every image it refers to is a whole PNG."""
    for src in images_of(out):
        data = (out / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data.endswith(b"IEND\xaeB`\x82"), src


def test_at_every_step_of_the_swap_the_index_refers_only_to_whole_images(tmp_path, fake_lpm, runs_store,
                                                                          monkeypatch):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    fewer = tmp_path / "fewer"
    for R in (1, 10):
        write_run(fewer, K_A=5, R=R)
    steps = []
    replace, unlink = os.replace, Path.unlink

    def checked_replace(src, dst):
        replace(src, dst)
        if Path(dst).parent == out or Path(dst).parent == out / "data":
            _index_is_whole(out)
            steps.append(Path(dst).name)

    def checked_unlink(self, missing_ok=False):
        unlink(self, missing_ok=missing_ok)
        if self.parent == out:
            _index_is_whole(out)
            steps.append("-" + self.name)
    monkeypatch.setattr(os, "replace", checked_replace)
    monkeypatch.setattr(Path, "unlink", checked_unlink)
    build_report(options(tmp_path, reg, fewer))
    assert any(s.startswith("-net") for s in steps) and "index.html" in steps  # stale figures went, after the index
    assert steps.index("index.html") > max(i for i, s in enumerate(steps) if s.endswith(".png") and s[0] != "-")


def test_a_swap_that_fails_midway_says_so_and_leaves_a_whole_index(tmp_path, fake_lpm, runs_store, monkeypatch):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    replace, calls = os.replace, []

    def fails_third(src, dst):
        if Path(src).parent.name.startswith(STAGING_PREFIX) and Path(dst).parent == out:  # the swap's figures
            calls.append(dst)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
        replace(src, dst)
    monkeypatch.setattr(os, "replace", fails_third)
    with pytest.raises(ReportNotWritten, match=r"swap failed after \d+ of \d+ files.*still the previous report's"):
        build_report(options(tmp_path, reg, tmp_path / "empty-store"))
    _index_is_whole(out)
    monkeypatch.undo()
    build_report(options(tmp_path, reg, tmp_path / "empty-store"))  # the next report completes the change
    _index_is_whole(out)
    assert not list(out.glob("net*.png"))


_KILLED_BUILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import test_report as T
from lpm_verify.report import build, lpm
lpm.input_key = lambda kind, params, modules: T.input_key(kind, params, [])
lpm._thresholds_job, lpm._sweep_job = T.fake_thresholds, T.fake_sweep

def stalls(*args, **kwargs):
    Path({marker!r}).write_text("in the network section")
    time.sleep(120)
build.network_section = stalls
tmp = Path({tmp!r})
build.build_report(T.options(tmp, T.make_registry(tmp / "checks", tag="k"), Path({runs!r})))
"""


def test_a_killed_report_leaves_the_previous_report_intact(tmp_path, fake_lpm, runs_store):
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    add_user_files(out)
    before = snapshot(out)
    marker = tmp_path / "marker"
    script = _KILLED_BUILD.format(tests=str(TESTS), marker=str(marker), tmp=str(tmp_path),
                                  runs=str(tmp_path / "empty-store"))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=TESTS.parent)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert proc.poll() is None, "the build ended before the fault point"
            assert time.monotonic() < deadline, "the build did not reach the network section"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    after = snapshot(out)
    left = [name for name in after if name.startswith(STAGING_PREFIX)]
    assert left  # the killed build had written into its staging folder, and only there
    assert {k: v for k, v in after.items() if k not in left} == before
    for src in images_of(out):
        assert (out / src).read_bytes()[:4] == b"\x89PNG"
    # the next report clears what the killed one left and succeeds
    build_report(options(tmp_path, reg, runs_store))
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]
    assert all((out / n).read_bytes() == d for n, d in USER_FILES.items())


# -- cache entries are verified ------------------------------------------------------------------------------
def _entry_of(cache_root: Path, check_id: str) -> Path:
    for path in (cache_root / "check").glob("*.json"):
        if f'"{check_id}"' in path.read_text():
            return path
    raise AssertionError(f"no cache entry for {check_id}")


def _set_verdicts(data, old: str, new: str):
    if isinstance(data, dict):
        return {k: (new if k == "verdict" and v == old else _set_verdicts(v, old, new)) for k, v in data.items()}
    if isinstance(data, list):
        return [_set_verdicts(v, old, new) for v in data]
    return data


def test_an_edited_cache_entry_is_recomputed_not_served(tmp_path):
    reg = make_registry(tmp_path / "checks")
    root = tmp_path / "cache"
    gather_checks(Cache(root), registry=reg, include_slow=False)
    entry = _entry_of(root, "Theorem 1/printed-formula")
    entry.write_text(json.dumps(_set_verdicts(json.loads(entry.read_text()), "erratum", "pass")))
    assert '"pass"' in entry.read_text()
    cache = Cache(root)
    got = gather_checks(cache, registry=reg, include_slow=False)
    verdicts = {r.id: r.verdict for r in got.records}
    assert verdicts["Theorem 1/printed-formula"] == "erratum"
    assert got.computed == ["Theorem 1/printed-formula"]
    assert [path for path, _ in cache.rejected] == [entry.relative_to(root).as_posix()]
    assert "hash" in cache.rejected[0][1]
    assert '"erratum"' in entry.read_text()  # the recomputed record replaced it


CORRUPT = {"random bytes": bytes(range(256)) * 3, "empty object": b"{}", "a list": b"[1,2]", "empty": b"",
           "null": b"null", "truncated": b'{"format": 2, "kind": "check", "ke', "deep nesting": b"[" * 100_000,
           "a string": b'"pass"'}


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_corrupt_cache_entry_is_recomputed(tmp_path, content):
    reg = make_registry(tmp_path / "checks")
    root = tmp_path / "cache"
    gather_checks(Cache(root), registry=reg, include_slow=False)
    entry = _entry_of(root, "Definition 1/exact")
    entry.write_bytes(content)
    cache = Cache(root)
    got = gather_checks(cache, registry=reg, include_slow=False)
    assert got.computed == ["Definition 1/exact"] and len(got.records) == 4
    assert [path for path, _ in cache.rejected] == [entry.relative_to(root).as_posix()]


@pytest.mark.parametrize("value", [[1, 2], {}, {"id": "Definition 1/exact"}, "pass",
                                   {"id": 3, "verdict": "pass"}])
def test_a_well_hashed_entry_holding_no_valid_record_is_recomputed(tmp_path, value):
    """The hash guards against corruption; the schema guards against what a hash cannot (a bad value
    stored by a faulty writer with a correct hash)."""
    reg = make_registry(tmp_path / "checks")
    root = tmp_path / "cache"
    gather_checks(Cache(root), registry=reg, include_slow=False)
    entry = _entry_of(root, "Definition 1/exact")
    Cache(root).put("check", entry.stem, value)
    cache = Cache(root)
    got = gather_checks(cache, registry=reg, include_slow=False)
    assert got.computed == ["Definition 1/exact"]
    assert len(cache.rejected) == 1 and "record" in cache.rejected[0][1]


def test_real_results_pass_the_cache_schema(tmp_path):
    """Positive control of the schemas: what the real jobs store reads back as a hit."""
    from lpm_verify.report import lpm
    cache = Cache(tmp_path / "cache")
    cache.put("sweep", "s", lpm._sweep_job((10, 3, 1.0, 5.0, [1.0, 10.0, math.inf], "symmetric")))
    cache.put("thresholds", "t", lpm._thresholds_job((10, 3, 1.0, 5.0, 20)))
    first = gather_checks(cache, only=["Definition 1"], include_slow=False)
    assert first.records and cache.get("sweep", "s") and cache.get("thresholds", "t")
    again = gather_checks(cache, only=["Definition 1"], include_slow=False)
    assert not again.computed and not cache.rejected and cache.hits["check"] == len(first.records)


def test_corrupt_sweep_and_threshold_entries_are_recomputed_and_named_in_the_report(tmp_path, fake_lpm):
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, tmp_path / "none"))
    calls = fake_lpm["sweep"]
    cache_root = tmp_path / "none" / ".cache" / "report"
    sweep_entry = sorted((cache_root / "sweep").glob("*.json"))[0]
    sweep_entry.write_bytes(b"[1,2]")
    threshold_entry = sorted((cache_root / "thresholds").glob("*.json"))[0]
    threshold_entry.write_text(threshold_entry.read_text().replace('"R": "', '"R": "1'))
    result = build_report(options(tmp_path, reg, tmp_path / "none"))
    assert fake_lpm["sweep"] == calls + 1
    assert sum(result.cache.misses.values()) == 2
    text = " ".join(parse(tmp_path / "report" / "index.html").text)
    for entry in (sweep_entry, threshold_entry):
        assert entry.relative_to(cache_root).as_posix() in text


# -- report side of the run store: every skipped run file is named with its reason --------------------------
def test_every_unusable_run_file_is_named_in_the_report(tmp_path, fake_lpm):
    store = tmp_path / "runs"
    write_run(store, K_A=3, R=10)
    write_run(store, K_A=3, R=100)
    write_run(store, K_A=5, R=10)
    write_run(store, K_A=5, R=100)
    bad = sorted(store.iterdir())
    (bad[0] / "metrics.json").write_text('{"cos_minority": 0.5, "test_a')  # truncated
    (bad[1] / "metrics.json").write_text("{}")
    (bad[2] / "config.json").write_bytes(bytes(range(256)))
    metrics = json.loads((bad[3] / "metrics.json").read_text())
    (bad[3] / "metrics.json").write_text(json.dumps({**metrics, "cos_minority": "garbage"}))
    got = gather_runs(store, train=False)
    assert got.runs == 0
    named = {path: reason for path, reason in got.skipped}
    assert set(named) == {str(folder) for folder in bad}  # the store skips whole run folders ...
    files = ("metrics.json", "metrics.json", "config.json", "metrics.json")
    assert all(file in named[str(folder)] for folder, file in zip(bad, files))  # ... naming the bad file
    build_report(options(tmp_path, make_registry(tmp_path / "checks"), store))
    text = " ".join(parse(tmp_path / "report" / "index.html").text)
    for path in named:
        assert path in text
    assert "4 run files of the store could not be used" in text  # said in the network section too


# -- text from data cannot change the Markdown's structure --------------------------------------------------
HOSTILE = "x](evil.png) | *bold* <script>alert(1)</script>\n# heading\n- item `tick` \\ [y]"
_IMAGE_LINE = re.compile(r"^!\[((?:[^\[\]\\\n]|\\.)*)\]\(([^()\s<>\\]+)\)$")


def _outside_code(md: str) -> str:
    """The Markdown without fenced code blocks and code spans (where raw text is meant literally)."""
    md = re.sub(r"^(`{3,})\n.*?\n\1$", "", md, flags=re.M | re.S)
    md = md.replace("\\\\", "").replace("\\`", "")  # escaped backslashes and backticks open no span
    return re.sub(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", "", md)


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", re.sub(r"\\\\", "", line)))


def test_markdown_escapes_text_from_data_everywhere():
    sec = Section("s", "Title " + HOSTILE)
    sec.add(Heading(HOSTILE), para(HOSTILE), note(HOSTILE), Figure("fig.png", HOSTILE),
            table(["a", "b"], [[HOSTILE, (Badge(HOSTILE), " ", Code(HOSTILE))]], caption=HOSTILE),
            CodeBlock("````\n" + HOSTILE))
    md = to_markdown(Document(HOSTILE, HOSTILE, [sec]))
    assert "<script>" in md and "<script>" not in _outside_code(md)  # raw HTML only inside code
    images = [line for line in md.splitlines() if line.startswith("![")]
    assert len(images) == 1
    match = _IMAGE_LINE.match(images[0])
    assert match and match.group(2) == "fig.png"
    for line in _outside_code(md).splitlines():  # no line of data starts a block
        assert not line.startswith(("# heading", "- item")), line
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len(rows) == 3 and all(_unescaped_pipes(r) == 3 for r in rows), rows
    fence = re.search(r"^(`{3,})$", md, re.M).group(1)
    assert len(fence) > 4  # longer than any backtick run inside the block


def test_run_config_text_is_escaped_in_the_markdown_report(tmp_path, fake_lpm):
    store = tmp_path / "runs"
    for R in (1, 10, 100):
        write_run(store, K_A=3, R=R, arch=HOSTILE)
    build_report(options(tmp_path, make_registry(tmp_path / "checks"), store))
    out = tmp_path / "report"
    md = (out / "index.md").read_text()
    images = [line for line in md.splitlines() if line.startswith("![")]
    assert images and all(_IMAGE_LINE.match(line) for line in images), images
    assert {_IMAGE_LINE.match(line).group(2) for line in images} == set(images_of(out))
    assert "<script>" not in _outside_code(md)
    assert not [line for line in md.splitlines() if line.startswith(("# heading", "- item"))]


INVISIBLE = "mlp\x00\u202egpj.exe\u2066x\x1b[31m"


def test_nul_and_bidi_controls_from_data_are_escaped_in_both_renderings():
    from lpm_verify.report.render import to_html
    sec = Section("s", "t")
    sec.add(Heading(INVISIBLE), para(INVISIBLE), table(["a"], [[(INVISIBLE, Code(INVISIBLE))]]), CodeBlock(INVISIBLE))
    doc = Document("d", "s", [sec])
    for text in (to_markdown(doc), to_html(doc)):
        assert not set("\x00\u202e\u2066\x1b") & set(text)
        assert "\\u202egpj" in text.replace("\\\\", "\\")  # shown as an escape, not applied


def test_run_config_controls_are_escaped_in_the_report(tmp_path, fake_lpm):
    store = tmp_path / "runs"
    for R in (1, 10, 100):
        write_run(store, K_A=3, R=R, arch=INVISIBLE)
    build_report(options(tmp_path, make_registry(tmp_path / "checks"), store))
    for name in ("index.md", "index.html"):
        text = (tmp_path / "report" / name).read_text()
        assert "gpj.exe" in text and not set("\x00\u202e\u2066\x1b") & set(text), name


# -- provenance ----------------------------------------------------------------------------------
def test_provenance_names_the_git_revision_and_a_dirty_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.txt").write_text("1")
    subprocess.run(git + ["-C", str(repo), "add", "a.txt"], check=True)
    subprocess.run(git + ["-C", str(repo), "commit", "-qm", "one"], check=True)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert git_revision(repo) == head
    (repo / "a.txt").write_text("2")
    assert git_revision(repo) == head + " with uncommitted changes to tracked files"
    assert git_revision(tmp_path / "not-a-repo").startswith("unknown")


# -- a full disk is a named failure, not an internal error -------------------------------------------------
def test_a_full_disk_says_so_and_leaves_the_previous_report(tmp_path, fake_lpm, runs_store, monkeypatch):
    import errno
    from lpm_verify.errors import NamedFailure
    out = tmp_path / "report"
    reg = make_registry(tmp_path / "checks")
    build_report(options(tmp_path, reg, runs_store))
    before = snapshot(out)

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(build_mod, "write_text_atomic", full)
    with pytest.raises(NamedFailure) as info:
        build_report(options(tmp_path, reg, runs_store))
    message = str(info.value)
    assert "no space left on the device" in message and "previous report" in message and "unchanged" in message
    assert isinstance(info.value, ReportNotWritten) and "\n" not in message
    assert snapshot(out) == before


def test_the_command_line_prints_a_full_disk_as_one_line_exit_1(tmp_path, monkeypatch, capsys):
    from lpm_verify.cli import main
    from lpm_verify.report.build import ReportWriteFailed

    def full(options):
        raise ReportWriteFailed(f"report not written: no space left on the device of {options.out}; the previous "
                                f"report in {options.out} is unchanged")
    monkeypatch.setattr(build_mod, "build_report", full)
    rc = main(["report", "--out", str(tmp_path / "r"), "--runs", str(tmp_path / "none"), "--no-train"])
    err = capsys.readouterr().err
    assert rc == 1 and "internal error" not in err and "no space left" in err and len(err.strip().splitlines()) == 1


def test_a_bug_during_the_build_is_still_an_internal_error(tmp_path, monkeypatch, capsys):
    """Negative control: only named failures lose the "internal error" label."""
    from lpm_verify.cli import main

    def broken(options):
        raise ReportNotWritten("report not written (ZeroDivisionError: division by zero); the previous report "
                               "is unchanged")
    monkeypatch.setattr(build_mod, "build_report", broken)
    assert main(["report", "--out", str(tmp_path / "r"), "--runs", str(tmp_path / "none"), "--no-train"]) == 1
    assert "internal error" in capsys.readouterr().err


def test_provenance_says_results_are_keyed_by_file_content(tmp_path, fake_lpm, runs_store):
    build_report(options(tmp_path, make_registry(tmp_path / "checks"), runs_store))
    text = (tmp_path / "report" / "index.md").read_text()
    provenance = text[text.index("Provenance"):]
    assert "content of every file they read" in provenance and "never by path, size or modification time" in provenance


def test_an_unreadable_run_checkpoint_is_a_named_failure(tmp_path, fake_lpm, runs_store, monkeypatch):
    """A corrupt checkpoint.pt of a run the report draws (Fig. 7's histograms) names the run, exit 1, not an
    internal error."""
    from experiments.claims_data import CorruptStoreError
    from lpm_verify.errors import NamedFailure

    def corrupt(*args, **kwargs):
        raise CorruptStoreError("run r: cannot read the classifier from r/checkpoint.pt: EOFError")
    monkeypatch.setattr(build_mod, "empirical_section", corrupt)
    with pytest.raises(NamedFailure, match="cannot read the classifier.*unchanged"):
        build_report(options(tmp_path, make_registry(tmp_path / "checks"), runs_store))


def test_the_fixture_store_is_within_every_range(runs_store):
    """The generated store is valid data (a cosine above 1 would now be skipped, silently thinning the tests)."""
    from experiments.store import scan_runs
    scan = scan_runs(runs_store)
    assert scan.skipped == [] and scan.duplicates == [] and len(scan.runs) == 20


# -- a report over a store with one hostile file (the store fuzz of tests/test_fuzz_cli.py, end to end) -----
def test_a_report_over_a_hostile_store_file_is_written_and_names_the_run(tmp_path, fake_lpm, runs_store):
    from hypothesis import given, settings
    from test_fuzz_cli import _out_of_bounds, store_file
    reg = make_registry(tmp_path / "checks")
    target = sorted(runs_store.iterdir())[0]
    originals = {p.name: p.read_bytes() for p in target.iterdir()}

    @settings(max_examples=max(2, settings.default.max_examples // 25))
    @given(store_file())
    def run(case):
        name, data, key, raw = case
        for p in target.iterdir():
            p.unlink()
        for fname, content in originals.items():
            (target / fname).write_bytes(content)
        (target / name).write_bytes(data)
        build_report(options(tmp_path, reg, runs_store))  # never raises: a bad run is skipped and named
        if _out_of_bounds(name, key, raw):
            assert target.name in (tmp_path / "report" / "index.md").read_text()
    run()
