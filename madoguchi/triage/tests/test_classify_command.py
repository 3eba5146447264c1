"""`madoguchi classify`: UTF-8 lines in, one JSON object per line out, with the data folder's
model; fast enough for 1,000 messages in under 2 s including the process start."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from madoguchi.triage import corpus
from madoguchi.triage.tests.conftest import put_model

MADOGUCHI = shutil.which("madoguchi", path=os.path.dirname(sys.executable)) or "madoguchi"


def run(data_dir: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "MADOGUCHI_DATA_DIR": str(data_dir)}
    return subprocess.run([MADOGUCHI, "classify", *args], input=stdin, env=env, capture_output=True, timeout=300)


def test_one_json_object_per_line(tmp_path: Path, starter_model_bytes: bytes) -> None:
    put_model(tmp_path, starter_model_bytes)
    lines = [
        "注文した土鍋が一週間たっても届きません。いったいどうなっているんですか！",
        "こちらのセーターは手洗いできますか？",
        "",
        "担当の方がとても親切で、すぐに交換していただけました。ありがとうございました。",
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b"\xff\xfe broken\n" + "【期間限定】全品50%OFF！今すぐこちら https://ad.example.com\n".encode()
    done = run(tmp_path, stdin)
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(out) == 6
    assert (out[0]["kind"], out[0]["category"]) == ("complaint", "delivery")
    assert out[0]["anger"] > out[3]["anger"]
    assert out[1]["kind"] == "question" and out[1]["anger"] <= 1
    assert out[2]["kind"] == "noise"
    assert out[3]["kind"] == "praise"
    assert out[4] == {"error": "UTF-8 として読めません", "line": 5}
    assert out[5]["kind"] == "noise"
    assert all(isinstance(row["anger"], float) for row in out if "anger" in row)
    # the bad line is reported in Japanese, and the exit status says something was not read
    assert done.returncode == 1 and "5 行目は UTF-8 として読めませんでした" in done.stderr.decode()


def test_a_thousand_messages_in_under_two_seconds(tmp_path: Path, starter_model_bytes: bytes) -> None:
    put_model(tmp_path, starter_model_bytes)
    texts = [example.text.replace("\n", " ") for example in corpus.evaluation_set()][:1000]
    assert len(texts) == 1000
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = run(tmp_path, ("\n".join(texts) + "\n").encode())
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr.decode()
    assert len(done.stdout.decode().splitlines()) == 1000
    # CPU time of the whole process (start, model, tokenizer, 1,000 readings): the machine is
    # shared, so its wall time says more about the neighbours (printed for the record).
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"classify 1,000 messages: {cpu:.2f} s CPU, {wall:.2f} s wall")
    assert cpu < 2.0


def test_evaluate_reports_the_three_figures(tmp_path: Path, starter_model_bytes: bytes) -> None:
    put_model(tmp_path, starter_model_bytes)
    labelled = tmp_path / "labelled.jsonl"
    rows = [
        {"text": "頼んだ財布がまだ届かない。最悪。金返せ😡", "kind": "complaint", "category": "delivery", "anger": 4},
        {"text": "届いた財布の縫い目が少しほつれていました。", "kind": "complaint", "category": "defect", "anger": 1},
        {"text": "カードで二重に引き落とされています。至急返金してください。", "kind": "complaint", "category": "billing", "anger": 3},
        {"text": "営業時間を教えてください。", "kind": "question", "category": "service", "anger": 0},
    ]
    labelled.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    done = run(tmp_path, b"", "--evaluate", str(labelled))
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["messages"] == 4 and result["complaints"] == 3
    assert {"complaint_f1", "category_accuracy", "anger_spearman", "targets"} <= set(result)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "x"}\n', encoding="utf-8")
    done = run(tmp_path, b"", "--evaluate", str(broken))
    assert done.returncode == 2 and "評価データを読めませんでした" in done.stderr.decode()
